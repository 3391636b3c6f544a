"""A moderator works the queue in a real browser: headless Chromium against the app under
gunicorn logs in to the admin, sees the reported post, and hides it with a reason.

Set DOCS_SCREENSHOTS to a folder (e.g. ``docs``) to keep docs/moderating.md's screenshots of the queue
there; otherwise they go to the test's temporary folder.
"""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection
from playwright import sync_api

from accounts.models import User
from moderation.models import ModerationAction
from posts.models import Post
from testing.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from testing.servers import gunicorn

MODERATOR, PASSWORD = "moderator@example.com", "correct horse battery"
TIMEOUT_MS = 20_000

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def api(server, method: str, path: str, token: str | None = None, **body):
    response = server.request(method, path, json_body=body or None, token=token)
    return response.status, (response.json() if response.body else None)


def in_a_thread[T](query: Callable[[], T]) -> T:
    """Run a database query outside Playwright's event loop (Django refuses it inside)."""

    def run() -> T:
        try:
            return query()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def signup_and_login(server, email: str) -> str:
    assert api(server, "POST", "/users/", email=email, password=PASSWORD)[0] == 201
    return server.login(email, PASSWORD).json()["access_token"]


@pytest.fixture
def server():
    """The app under gunicorn with a moderator and a queue of three reported posts, made through
    the API as users would."""
    with gunicorn({"ALLOWED_HOSTS": "127.0.0.1"}, collectstatic=True) as running:
        # Signed up through the API, so that the server hashes the password its own way.
        signup_and_login(running, MODERATOR)
        moderator = User.objects.get(email=MODERATOR)
        moderator.is_staff = True
        moderator.save()
        # Tests on real transactions empty every table after them, this group included; make it
        # again exactly as its migration does.
        import_module("moderation.migrations.0002_moderators_group").create_group(apps, None)
        moderator.groups.add(Group.objects.get(name="Moderators"))
        author, readers = signup_and_login(running, "author@example.com"), []
        for i in range(3):
            readers.append(signup_and_login(running, f"reader{i}@example.com"))
        posts = {}
        for title in ("Cheap watches, click here", "My holiday photos", "You are all idiots"):
            posts[title] = api(running, "POST", "/posts/", author, title=title, content="...")[1]["id"]
        reports = [
            ("Cheap watches, click here", 0, "spam", "The same link in every post"),
            ("Cheap watches, click here", 1, "spam", ""),
            ("You are all idiots", 2, "abuse", "Insults everyone in the thread"),
            ("You are all idiots", 0, "abuse", ""),
            ("Cheap watches, click here", 2, "off-topic", ""),
            ("My holiday photos", 1, "other", "Is this allowed here?"),
        ]
        for title, reader, reason, note in reports:
            status, _ = api(
                running, "POST", f"/posts/{posts[title]}/report", readers[reader], reason=reason, note=note
            )
            assert status == 201
        running.posts, running.reader_token = posts, readers[0]
        yield running


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DOCS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 520})
            page.set_default_timeout(TIMEOUT_MS)
            page.errors = []
            page.on("pageerror", lambda error: page.errors.append(str(error)))
            yield page
        finally:
            browser.close()


def test_a_moderator_hides_a_reported_post_from_the_queue(server, page, screenshots):
    spam = server.posts["Cheap watches, click here"]
    page.goto(f"{server.url}/admin/moderation/reportedpost/")
    page.locator("#id_username").fill(MODERATOR)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()

    rows = page.locator("#result_list tbody tr")
    page.locator("#result_list").wait_for()
    page.locator("#toggle-nav-sidebar").click()  # the list's full width, for the screenshots
    assert page.get_by_role("heading", name="Moderation queue").is_visible()
    assert rows.count() == 3
    spam_row = rows.filter(has_text="Cheap watches, click here")
    assert "spam (2), off-topic (1)" in spam_row.inner_text()
    assert "The same link in every post" in spam_row.inner_text()
    page.screenshot(path=screenshots / "moderation-queue.png", full_page=True)

    spam_row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("hide")
    page.locator("input[name=reason]").fill("Advertising")
    page.locator("button[name=index]").click()
    page.locator(".messagelist .success").wait_for()
    assert "Hid 1 post(s)." in page.locator(".messagelist").inner_text()
    assert rows.count() == 2
    assert "Cheap watches" not in page.locator("#result_list").inner_text()

    page.get_by_role("link", name="Hidden", exact=True).click()
    page.locator("#result_list").wait_for()
    assert "Cheap watches, click here" in page.locator("#result_list").inner_text()
    page.goto(f"{server.url}/admin/moderation/moderationaction/")
    page.locator("#result_list").wait_for()
    page.screenshot(path=screenshots / "moderation-record.png", full_page=True)
    assert page.errors == []

    # What users see now: nothing, the author included.
    status, body = api(server, "GET", f"/posts/{spam}", server.reader_token)
    assert (status, body) == (404, {"detail": f"post with id: {spam} was not found"})
    assert in_a_thread(lambda: Post.objects.get(pk=spam).hidden)
    record = in_a_thread(
        lambda: ModerationAction.objects.values_list("action", "moderator__email", "reason").get()
    )
    assert record == ("hide", MODERATOR, "Advertising")


def test_every_column_of_the_queue_fits_a_1280_pixel_screen(server, page, tmp_path):
    """At 1280 px, with the admin's navigation sidebar open as it is by default, every column
    of the queue is on screen: none cut off or behind a sideways scroll."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server.url}/admin/moderation/reportedpost/")
    page.locator("#id_username").fill(MODERATOR)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.locator("#result_list").wait_for()
    page.screenshot(path=tmp_path / "moderation-queue-1280.png", full_page=True)  # to look at
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    headers = page.locator("#result_list thead th")
    assert headers.count() == 8  # the checkbox and the seven columns
    for index in range(headers.count()):
        box = headers.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
            headers.nth(index).inner_text(),
            box,
        )
    # The list's own scroll box (Django's .results) shows everything without scrolling sideways.
    assert page.evaluate(
        "(() => { const r = document.querySelector('.results'); return r.scrollWidth <= r.clientWidth })()"
    )
    assert page.errors == []
