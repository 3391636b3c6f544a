"""A moderator works the comments' queue in a real browser: headless Chromium against the app
under gunicorn logs in to the admin, sees the reported comment with its post and the comment it
answers, and hides it with a reason; the API then shows it as a tombstone.

Set DOCS_SCREENSHOTS to a folder (e.g. ``docs``) to keep docs/moderation-comments.png there;
otherwise it goes to the test's temporary folder.
"""

import os
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright import sync_api

from accounts.models import User
from testing.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from testing.servers import gunicorn

MODERATOR, PASSWORD = "moderator@example.com", "correct horse battery"
TIMEOUT_MS = 20_000

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]


def api(server, method: str, path: str, token: str | None = None, **body):
    response = server.request(method, path, json_body=body or None, token=token)
    return response.status, (response.json() if response.body else None)


def signup_and_login(server, email: str) -> str:
    assert api(server, "POST", "/users/", email=email, password=PASSWORD)[0] == 201
    return server.login(email, PASSWORD).json()["access_token"]


@pytest.fixture
def server():
    """The app under gunicorn with a moderator, a thread, and a reported reply in it, made
    through the API as users would."""
    with gunicorn({"ALLOWED_HOSTS": "127.0.0.1"}, collectstatic=True) as running:
        signup_and_login(running, MODERATOR)
        moderator = User.objects.get(email=MODERATOR)
        moderator.is_staff = True
        moderator.save()
        # Tests on real transactions empty every table after them, the group included: make it
        # again exactly as its migrations do.
        import_module("moderation.migrations.0002_moderators_group").create_group(apps, None)
        import_module("moderation.migrations.0005_moderators_comments").add_permissions(apps, None)
        moderator.groups.add(Group.objects.get(name="Moderators"))
        author, troll, reader = (
            signup_and_login(running, f"{n}@example.com") for n in ("author", "troll", "reader")
        )
        post = api(running, "POST", "/posts/", author, title="Sourdough at home", content="...")[1]["id"]
        first = api(running, "POST", f"/posts/{post}/comments", reader, content="What flour do you use?")[1][
            "id"
        ]
        rude = api(
            running, "POST", f"/posts/{post}/comments", troll, content="Buy bread, idiot", parent_id=first
        )
        rude_id = rude[1]["id"]
        for token, reason, note in ((author, "abuse", "Insults my readers"), (reader, "abuse", "")):
            status, _ = api(running, "POST", f"/comments/{rude_id}/report", token, reason=reason, note=note)
            assert status == 201
        status, _ = api(
            running, "POST", f"/posts/{post}/report", reader, reason="other", note="a post report too"
        )
        assert status == 201
        running.rude, running.reader = rude_id, reader
        yield running


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DOCS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_moderator_hides_a_reported_comment_from_the_queue(server, screenshots):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 420})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{server.url}/admin/moderation/reportedcomment/")
            page.locator("#id_username").fill(MODERATOR)
            page.locator("#id_password").fill(PASSWORD)
            page.locator("input[type=submit]").click()
            page.locator("#result_list").wait_for()
            page.locator("#toggle-nav-sidebar").click()
            rows = page.locator("#result_list tbody tr")
            assert rows.count() == 1
            row = rows.first.inner_text()
            assert "Buy bread, idiot" in row and "Sourdough at home" in row and "troll@example.com" in row
            assert "abuse, abuse" in row
            page.screenshot(path=screenshots / "moderation-comments.png", full_page=True)

            rows.first.locator("input.action-select").check()
            page.locator("select[name=action]").select_option("hide")
            page.locator("input[name=reason]").fill("Insults")
            page.locator("button[name=index]").click()
            page.locator(".messagelist .success").wait_for()
            assert "Hid 1 comment(s)." in page.locator(".messagelist").inner_text()
            assert rows.count() == 0
        finally:
            browser.close()
    status, body = api(server, "GET", f"/comments/{server.rude}", server.reader)
    assert status == 200 and (body["deleted"], body["content"], body["owner"]) == (True, "", None)
