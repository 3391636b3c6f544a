"""The main flow (sign up, log in, create a post, vote, list, get one) from clients that really
differ, against a real gunicorn: each must see the same answers.

curl sends its JSON bodies chunked; Python's http.client streams every body (chunked);
requests and httpx send lengths; Node's http.request writes its bodies (chunked); Node's fetch
and Chromium's fetch send `Cache-Control`, `X-Client-Version` and `If-None-Match` on every
request, Chromium from a page on another origin (so through CORS preflights). Every answer is
also checked against the served OpenAPI schema.
"""

import contextlib
import http.client
import http.server
import json
import re
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Callable, Iterator

import httpx
import pytest
import requests
from playwright import sync_api

from testing import REPO
from testing.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from testing.net import free_port
from testing.schema_check import check

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = REPO / "testing" / "client_scripts"
PASSWORD = "password123"
EXTRA_HEADERS = {"Cache-Control": "no-cache", "X-Client-Version": "3.1.4", "If-None-Match": '"no-such-tag"'}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.]+\+00:00$")
VARYING = {"id", "post_id", "owner_id", "email", "access_token", "refresh_token"}
FLOW = [  # (method, path) of each step, for the schema check; {id} is the new post's id
    ("POST", "/users/"),
    ("POST", "/login"),
    ("POST", "/posts/"),
    ("POST", "/vote/"),
    ("GET", "/posts/"),
    ("GET", "/posts/{id}"),
]

# send(method, path, json=..., form=..., token=...) -> (status, content type, body, request id)
Send = Callable[..., tuple[int, str | None, bytes, str | None]]


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The module's `server` (testing/plugin.py) lets every client's signup through."""
    return {"SIGNUP_RATE": "1000/minute"}


def encode(json_body=None, form=None, token=None) -> tuple[bytes | None, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if json_body is not None:
        return json.dumps(json_body).encode(), {**headers, "Content-Type": "application/json"}
    if form is not None:
        return urllib.parse.urlencode(form).encode(), {
            **headers,
            "Content-Type": "application/x-www-form-urlencoded",
        }
    return None, headers


def python_flow(send: Send, email: str) -> list[dict]:
    answers = []

    def call(method, path, **kwargs):
        status, content_type, body, request_id = send(method, path, **kwargs)
        answers.append(
            {
                "status": status,
                "type": content_type,
                "request_id": request_id,
                "body": json.loads(body) if body else None,
            }
        )
        return answers[-1]["body"]

    call("POST", "/users/", json_body={"email": email, "password": PASSWORD})
    token = call("POST", "/login", form={"username": email, "password": PASSWORD})["access_token"]
    post = call("POST", "/posts/", json_body={"title": "matrix", "content": "same answers"}, token=token)
    call("POST", "/vote/", json_body={"post_id": post["id"], "dir": 1}, token=token)
    call("GET", "/posts/?limit=1", token=token)
    call("GET", f"/posts/{post['id']}", token=token)
    return answers


def http_client_send(base: str) -> Send:
    """Python's http.client, every body streamed from a generator: sent chunked."""
    port = urllib.parse.urlsplit(base).port

    def send(method, path, json_body=None, form=None, token=None):
        body, headers = encode(json_body, form, token)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            stream = None if body is None else iter([body[:5], body[5:]])
            conn.request(method, path, body=stream, headers=headers, encode_chunked=stream is not None)
            answer = conn.getresponse()
            return (
                answer.status,
                answer.getheader("Content-Type"),
                answer.read(),
                answer.getheader("X-Request-ID"),
            )
        finally:
            conn.close()

    return send


def seen(answer: requests.Response | httpx.Response) -> tuple:
    """What a client saw: (status, Content-Type, body bytes, X-Request-ID)."""
    return (
        answer.status_code,
        answer.headers.get("Content-Type"),
        answer.content,
        answer.headers.get("X-Request-ID"),
    )


def requests_send(base: str) -> Send:
    session = requests.Session()

    def send(method, path, json_body=None, form=None, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return seen(
            session.request(method, base + path, json=json_body, data=form, headers=headers, timeout=30)
        )

    return send


def httpx_send(base: str) -> Send:
    client = httpx.Client(base_url=base, timeout=30)

    def send(method, path, json_body=None, form=None, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return seen(client.request(method, path, json=json_body, data=form, headers=headers))

    return send


def curl_send(base: str) -> Send:
    """curl, JSON bodies sent with Transfer-Encoding: chunked as in the bug report."""

    def send(method, path, json_body=None, form=None, token=None):
        body, headers = encode(json_body, form, token)
        if json_body is not None:
            headers["Transfer-Encoding"] = "chunked"
        command = [shutil.which("curl"), "-sS", "-X", method, base + path, "-D", "-", "--max-time", "30"]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        if body is not None:
            command += ["--data-binary", body.decode()]
        output = subprocess.run(command, capture_output=True, check=True, timeout=60).stdout  # noqa: S603
        head, _, content = output.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        fields = {
            name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])
        }
        return int(lines[0].split()[1]), fields.get("content-type"), content, fields.get("x-request-id")

    return send


def node(script: str, *args: str) -> list[dict]:
    result = subprocess.run(  # noqa: S603
        [shutil.which("node"), str(CLIENTS / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@contextlib.contextmanager
def page_on_another_origin() -> Iterator[str]:
    """An empty page served from http://localhost:<port> (the API is on 127.0.0.1)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>front end</title>")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def chromium_flow(base: str, email: str) -> list[dict]:
    with page_on_another_origin() as page_url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_url)
            page.add_script_tag(content=(CLIENTS / "fetch_flow.js").read_text())
            return page.evaluate(
                "([base, email, headers]) => flow(base, email, headers)", [base, email, EXTRA_HEADERS]
            )
        finally:
            browser.close()


def normalized(value, key=None):
    """An answer with what differs between runs (ids, emails, tokens, times) replaced by its kind."""
    if isinstance(value, dict):
        return {k: normalized(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if key in VARYING:
        return f"<{type(value).__name__}>"
    if key == "request_id":
        return bool(value and re.fullmatch(r"[0-9a-f]{32}", value))
    if key == "type" and isinstance(value, str):
        return value.split(";")[0]
    if isinstance(value, str) and DATETIME.match(value):
        return "<datetime>"
    return value


def run(client: str, base: str) -> list[dict]:
    email = f"{client}@example.com"
    if client == "curl":
        return python_flow(curl_send(base), email)
    if client == "http.client":
        return python_flow(http_client_send(base), email)
    if client == "requests":
        return python_flow(requests_send(base), email)
    if client == "httpx":
        return python_flow(httpx_send(base), email)
    if client == "node-http-request":
        return node("http_request_flow.js", base, email)
    if client == "node-fetch":
        return node("fetch_flow.js", base, email, json.dumps(EXTRA_HEADERS))
    return chromium_flow(base, email)


EXPECTED = [
    {"status": 201, "body": {"id": "<int>", "email": "<str>", "created_at": "<datetime>"}},
    {"status": 200, "body": {"access_token": "<str>", "token_type": "bearer", "refresh_token": "<str>"}},
    {"status": 201, "body": None},  # a Post, compared between clients
    {"status": 201, "body": {"message": "successfully added vote"}},
    {"status": 200, "body": None},
    {"status": 200, "body": None},
]


@pytest.mark.parametrize(
    "client",
    [
        pytest.param("curl", marks=pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")),
        "http.client",
        "requests",
        "httpx",
        pytest.param(
            "node-http-request", marks=pytest.mark.skipif(not shutil.which("node"), reason="needs node")
        ),
        pytest.param("node-fetch", marks=pytest.mark.skipif(not shutil.which("node"), reason="needs node")),
        pytest.param("chromium-fetch", marks=needs_chromium),
    ],
)
def test_every_client_sees_the_same_answers(server, client):
    answers = run(client, server.url)
    for (method, template), answer in zip(FLOW, answers, strict=True):
        path = template.replace("{id}", str(answers[2]["body"]["id"]))
        check(method, path, answer["status"], answer["type"] or "", json.dumps(answer["body"]).encode())
    seen = [normalized(answer) for answer in answers]
    reference = [
        normalized(answer) for answer in python_flow(requests_send(server.url), f"ref-{client}@example.com")
    ]
    assert seen == reference
    for expected, answer in zip(EXPECTED, seen, strict=True):
        assert answer["status"] == expected["status"] and answer["type"] == "application/json"
        assert answer["request_id"] is True
        if expected["body"] is not None:
            assert answer["body"] == expected["body"]
    assert seen[5]["body"]["votes"] == 1 and seen[5]["body"]["Post"]["title"] == "matrix"
