"""The documentation pages in a real browser: headless Chromium against the app under gunicorn.

The README and docs/api.md show screenshots of both pages (docs/*.png), and docs/screenshots.json records what
each one shows (the menu, the routes, the parameters). The test fails when the pages now show
something else, so the pictures never go stale: retake them with

    DOCS_SCREENSHOTS=docs make test ARGS=config/tests/test_docs_browser.py

which writes the screenshots and the record into docs/ instead of the test's temporary folder.
"""

import json
import os
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright import sync_api

from testing.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from testing.servers import gunicorn

EMAIL, PASSWORD = "reader@example.com", "correct horse battery"
TIMEOUT_MS = 20_000

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]


def http(method: str, url: str, body: bytes | None = None, **headers: str) -> dict | list:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback server)
        return json.loads(response.read())


@pytest.fixture
def server() -> str:
    """The app under gunicorn, with a user and one post of theirs, made through the API."""
    with gunicorn({"ALLOWED_HOSTS": "127.0.0.1"}, collectstatic=True) as running:
        base_url = running.url
        signup = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
        http("POST", f"{base_url}/users/", signup, **{"Content-Type": "application/json"})
        form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
        token = http("POST", f"{base_url}/login", form)["access_token"]
        post = json.dumps({"title": "Seen through Swagger", "content": "Hello from the docs"}).encode()
        http(
            "POST",
            f"{base_url}/posts/",
            post,
            **{"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        yield base_url


RECORD = Path(__file__).resolve().parents[2] / "docs" / "screenshots.json"


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DOCS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_screenshot_current(screenshots: Path, name: str, shown: dict) -> None:
    """The docs' screenshot `name` shows what the page shows now; when retaking them
    (DOCS_SCREENSHOTS=docs), record what the new one shows instead."""
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    if screenshots.resolve() == RECORD.parent:
        RECORD.write_text(json.dumps({**record, name: shown}, indent=2, sort_keys=True) + "\n")
        return
    assert record.get(name) == shown, (
        f"docs/{name} is stale: it shows {record.get(name)}, the page now shows {shown}. Retake it: "
        "DOCS_SCREENSHOTS=docs make test ARGS=config/tests/test_docs_browser.py"
    )


@pytest.fixture
def browser_page(server: str):
    """A Chromium page that records every request it makes and every error it logs."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.seen = []  # (url, status) of every response
            page.blocked = []  # what the page's Content-Security-Policy kept from loading
            page.errors = []

            def failed(request) -> None:
                if request.failure in ("csp", "net::ERR_BLOCKED_BY_CSP"):
                    page.blocked.append(request.url)
                else:
                    page.errors.append(f"failed: {request.url} {request.failure}")

            def console(message) -> None:
                if message.type == "error" and "Content Security Policy" not in message.text:
                    page.errors.append(f"console: {message.text}")

            page.on("response", lambda response: page.seen.append((response.url, response.status)))
            page.on("requestfailed", failed)
            page.on("pageerror", lambda error: page.errors.append(f"page error: {error}"))
            page.on("console", console)
            yield page
        finally:
            browser.close()


def assert_loaded_only_from(page, base_url: str) -> None:
    """Everything came from our server, and every static file was served (by whitenoise)."""
    ours = urllib.parse.urlsplit(base_url).netloc
    hosts = {
        urllib.parse.urlsplit(url).netloc for url, _ in page.seen if not url.startswith(("data:", "blob:"))
    }
    assert hosts == {ours}
    assert all(urllib.parse.urlsplit(url).netloc != ours for url in page.blocked), page.blocked
    static = [(url, status) for url, status in page.seen if "/static/" in url]
    assert static, "the page loaded no static files"
    assert all(status in (200, 304) for _, status in static), static
    assert page.errors == [], page.errors


def test_swagger_ui_authorizes_and_tries_out_the_post_list(server, browser_page, screenshots):
    page = browser_page
    page.goto(f"{server}/docs")
    page.get_by_role("heading", name="Social media API").wait_for()

    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    # Only what POST /login reads: no client_id, client_secret or credentials location.
    dialog.locator("#oauth_username").wait_for()
    for hidden in ("#client_id_password", "#client_secret_password", "#password_type"):
        assert dialog.locator(hidden).count() in (0, 1) and not dialog.locator(hidden).is_visible(), hidden
    assert [label.strip(": ") for label in dialog.locator("label:visible").all_inner_texts()] == [
        "username",
        "password",
    ]
    dialog.locator("#oauth_username").fill(EMAIL)
    dialog.locator("#oauth_password").fill(PASSWORD)
    dialog.locator("button.authorize").click()
    dialog.get_by_text("Authorized", exact=True).wait_for()
    dialog.locator("button.btn-done").click()

    operation = page.locator("#operations-Posts-posts_list")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    live = operation.locator(".live-responses-table .response")
    live.first.wait_for()
    assert live.locator(".response-col_status").first.inner_text().strip() == "200"
    body = operation.locator(".live-responses-table .response-col_description pre.microlight").first
    assert "Seen through Swagger" in body.inner_text()
    # The request carried the token the Authorize dialog got from /login.
    assert "Authorization: Bearer ey" in operation.locator(".curl-command").inner_text()

    # From the title down to the answer "Try it out" got.
    answer = operation.locator(".live-responses-table").first.bounding_box()
    bottom = page.evaluate("window.scrollY") + answer["y"] + answer["height"] + 20
    page.screenshot(
        path=screenshots / "swagger-ui.png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": bottom},
    )
    shown = {
        "routes": page.locator(".opblock-summary-path").all_inner_texts(),
        "posts list parameters": operation.locator(".parameters .parameter__name").all_inner_texts(),
    }
    assert_screenshot_current(
        screenshots, "swagger-ui.png", {k: [" ".join(t.split()) for t in v] for k, v in shown.items()}
    )
    assert_loaded_only_from(page, server)


def test_try_it_out_fills_in_a_post_a_person_would_type(server, browser_page):
    page = browser_page
    page.goto(f"{server}/docs")
    operation = page.locator("#operations-Posts-posts_create")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    body = json.loads(operation.locator("textarea.body-param__text").input_value())
    assert body == {"title": "My first post", "content": "Hello from the API.", "published": True}
    assert "favicon.ico" not in " ".join(url for url, status in page.seen if status >= 400)


def test_redoc_shows_every_route(server, browser_page, screenshots):
    page = browser_page
    schema = http("GET", f"{server}/openapi.json")
    page.goto(f"{server}/redoc")
    page.get_by_role("heading", name="Social media API").first.wait_for()
    page.locator(".api-content").wait_for()

    text = page.locator("body").inner_text()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation["summary"] in text, (method, path)
            endpoint = page.locator(f'[id="operation/{operation["operationId"]}"]')
            assert endpoint.count() == 1, (method, path)
            shown = endpoint.inner_text()
            assert path in shown, (method, path)
            assert method.lower() in shown.lower().split(), (method, path)

    # NUL is refused, but said once in the description, not as a pattern under every field.
    assert "x00" not in text
    page.screenshot(path=screenshots / "redoc.png")
    list_posts = page.locator('[id="operation/posts_list"]')
    shown = {
        "menu": page.locator(".menu-content > div > ul > li > label").all_inner_texts(),
        "posts list parameters": list_posts.locator("td[kind='field'] span.property-name").all_inner_texts(),
    }
    assert_screenshot_current(screenshots, "redoc.png", shown)
    assert_loaded_only_from(page, server)
