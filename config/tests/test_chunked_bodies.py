"""Bodies sent with `Transfer-Encoding: chunked` (no Content-Length) are bodies, on every route
that takes one, under a real gunicorn: Python's http.client sends one for a streamed body, as
Node's http.request with write() and curl -H 'Transfer-Encoding: chunked' do."""

import json
import urllib.parse
from collections.abc import Iterator

import pytest

from accounts.models import User
from posts.models import Post
from testing.schema_check import check
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL, PASSWORD = "chunky@example.com", "password123"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The module's `server` (testing/plugin.py) has one worker."""
    return {"WEB_CONCURRENCY": "1"}


def chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    """The body in small pieces: http.client sends an iterable body chunked."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def send(server, method: str, path: str, body: bytes, content_type: str, token: str | None = None):
    headers = {"Content-Type": content_type}
    response = server.request(method, path, chunks(body), headers, token=token)
    check(method, path, response.status, response.headers.get("Content-Type", ""), response.body)
    return response


def send_json(server, method: str, path: str, data: dict, token: str | None = None):
    return send(server, method, path, json.dumps(data).encode(), "application/json", token)


def test_chunked_bodies_on_every_route_that_takes_one(server):
    assert send_json(server, "POST", "/users/", {"email": EMAIL, "password": PASSWORD}).status == 201
    form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
    login = send(server, "POST", "/login", form, "application/x-www-form-urlencoded")
    assert login.status == 200
    token = login.json()["access_token"]
    multipart = (
        b'--XyZ\r\nContent-Disposition: form-data; name="username"\r\n\r\n' + EMAIL.encode() + b"\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\n' + PASSWORD.encode() + b"\r\n"
        b"--XyZ--\r\n"
    )
    assert send(server, "POST", "/login/", multipart, "multipart/form-data; boundary=XyZ").status == 200

    created = send_json(server, "POST", "/posts/", {"title": "t", "content": "c"}, token)
    assert created.status == 201
    post_id = created.json()["id"]
    assert (
        send_json(server, "PUT", f"/posts/{post_id}", {"title": "t2", "content": "c2"}, token).status == 200
    )
    assert send_json(server, "PATCH", f"/posts/{post_id}", {"published": False}, token).status == 200
    post = Post.objects.get(pk=post_id)
    assert (post.title, post.content, post.published) == ("t2", "c2", False)

    assert send_json(server, "POST", "/vote/", {"post_id": post_id, "dir": 1}, token).status == 201
    assert Vote.objects.filter(post_id=post_id).count() == 1

    refreshed = send_json(server, "POST", "/login/refresh", {"refresh": login.json()["refresh_token"]})
    assert refreshed.status == 200
    assert send_json(server, "POST", "/logout", {"refresh": refreshed.json()["refresh_token"]}).status == 204


def test_empty_chunked_body_is_a_missing_body(server, make_user):
    make_user(EMAIL)
    response = send(server, "POST", "/users/", b"", "application/json")
    assert response.status == 422
    assert response.json() == {"detail": [{"loc": ["body"], "msg": "Field required", "type": "missing"}]}


def test_chunked_body_past_the_limit_is_413_and_nothing_is_stored(server):
    big = json.dumps({"email": "big@example.com", "password": PASSWORD, "x": "a" * (3 * 1024 * 1024)})
    response = server.request(
        "POST", "/users/", chunks(big.encode(), 64 * 1024), {"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert response.json() == {"detail": "Request body too large"}
    assert response.headers["X-Request-ID"]
    assert not User.objects.filter(email="big@example.com").exists()
    assert server.request("GET", "/").status == 200
