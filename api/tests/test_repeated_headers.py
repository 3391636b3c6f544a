"""Headers a client sends twice, over real HTTP under gunicorn (CONTRACT.md §1): identical
repeats of a single-value header are one header; repeats that differ are not guessed at."""

import http.client
import json

import pytest

from accounts.tokens import AccessToken
from posts.models import Post

pytestmark = pytest.mark.django_db(transaction=True)


def send(server, method: str, path: str, headers: list[tuple[str, str]], body: bytes | None = None):
    """One request with `headers` sent in order, repeats included: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


@pytest.fixture
def token(make_user) -> str:
    return str(AccessToken.for_user(make_user("twice@example.com")))


def test_the_same_authorization_sent_twice_is_one_header(server, token):
    status, _, body = send(server, "GET", "/users/me", [("Authorization", f"Bearer {token}")] * 2)
    assert status == 200, body
    assert json.loads(body)["email"] == "twice@example.com"
    post = {"title": "twice", "content": "c"}
    headers = [("Authorization", f"Bearer {token}")] * 2 + [("Content-Type", "application/json")]
    status, _, body = send(server, "POST", "/posts/", headers, json.dumps(post).encode())
    assert status == 201, body
    assert Post.objects.get().title == "twice"


def test_two_different_authorizations_are_401(server, token, make_user):
    other = str(AccessToken.for_user(make_user("other@example.com")))
    status, headers, body = send(
        server,
        "GET",
        "/users/me",
        [("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {other}")],
    )
    assert (status, json.loads(body)) == (401, {"detail": "Could not validate credentials"})
    assert headers["WWW-Authenticate"] == "Bearer"


def test_the_same_idempotency_key_sent_twice_is_one_key(server, token):
    headers = [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json")]
    body = json.dumps({"title": "once", "content": "c"}).encode()
    first = send(
        server, "POST", "/posts/", [*headers, ("Idempotency-Key", "k-1"), ("Idempotency-Key", "k-1")], body
    )
    again = send(server, "POST", "/posts/", [*headers, ("Idempotency-Key", "k-1")], body)
    assert first[0] == again[0] == 201
    assert again[1].get("Idempotent-Replayed") == "true"
    assert json.loads(again[2]) == json.loads(first[2])
    assert Post.objects.count() == 1


def test_the_same_request_id_sent_twice_is_echoed_once(server):
    status, headers, _ = send(server, "GET", "/health", [("X-Request-ID", "abc-123")] * 2)
    assert status == 200 and headers["X-Request-ID"] == "abc-123"
