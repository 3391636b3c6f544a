"""A body whose framing is broken is 400 {"detail": "Malformed request"} (or a closed
connection) on every route, under gunicorn as deployed: never a 500, never a traceback in the
log, and nothing stored (CONTRACT.md §1)."""

import json
import socket

import pytest

from accounts.models import User
from posts.models import Post

pytestmark = pytest.mark.django_db(transaction=True)

# One route of each kind: public and authenticated, JSON and form, the API's and the admin's.
ROUTES = [
    ("GET", "/health"),
    ("POST", "/health"),
    ("POST", "/users/"),
    ("POST", "/login"),
    ("POST", "/login/refresh"),
    ("POST", "/posts/"),
    ("PATCH", "/posts/1"),
    ("POST", "/vote/"),
    ("POST", "/posts/1/report"),
    ("GET", "/docs"),
    ("POST", "/admin/login/"),
    ("POST", "/no/such/path"),
]

BODY = json.dumps({"email": "framing@example.com", "password": "password123"}).encode()
# What follows the headers; `close` means the client shuts its side once it has sent it.
CHUNKED = "Transfer-Encoding: chunked"
BROKEN = {
    "size-not-hex": (CHUNKED, b"zz\r\nhello\r\n0\r\n\r\n", False),
    "negative-size": (CHUNKED, b"-5\r\nhello\r\n0\r\n\r\n", False),
    "bad-extension": (CHUNKED, b"5;\x01=\r\nhello\r\n0\r\n\r\n", False),
    "chunk-without-crlf": (CHUNKED, b"5\r\nhelloXX0\r\n\r\n", False),
    "bad-trailer": (CHUNKED, b"5\r\nhello\r\n0\r\nno colon here\r\n\r\n", False),
    "chunk-cut-short": (CHUNKED, b"%x\r\n" % len(BODY) + BODY[:10], True),
    "no-last-chunk": (CHUNKED, b"%x\r\n" % len(BODY) + BODY + b"\r\n", True),
    "content-length-not-reached": (f"Content-Length: {len(BODY) + 50}", BODY, True),
}


def raw_exchange(port: int, method: str, path: str, framing: str, body: bytes, close: bool) -> bytes:
    """Send one hand-framed request; everything the server answers until it closes (or 10 s)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{framing}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
        if close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except (TimeoutError, ConnectionResetError):
            pass
    return answer


def decoded_body(answer: bytes) -> bytes:
    """The body of a raw HTTP/1.1 answer, chunked or not."""
    head, _, body = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        return body
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


@pytest.mark.parametrize("case", BROKEN)
def test_broken_framing_is_400_malformed_request_on_every_route(server, case):
    framing, body, close = BROKEN[case]
    for method, path in ROUTES:
        answer = raw_exchange(server.port, method, path, framing, body, close)
        if not answer:
            continue  # a closed connection is a right answer too
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 400 "), (method, path, answer[:400])
        assert json.loads(decoded_body(answer)) == {"detail": "Malformed request"}, (method, path)
    assert "Traceback" not in server.log()
    assert " 500 " not in server.access_log.read_text()
    assert not User.objects.exists() and not Post.objects.exists()


def test_a_well_framed_body_after_the_checks_is_still_read(server):
    """Reading bodies up front must not lose one: a Content-Length body, then a chunked one."""
    answer = raw_exchange(server.port, "POST", "/users/", f"Content-Length: {len(BODY)}", BODY, False)
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    other = BODY.replace(b"framing@", b"chunks@")
    chunked = b"%x\r\n" % len(other) + other + b"\r\n0\r\n\r\n"
    answer = raw_exchange(server.port, "POST", "/users/", CHUNKED, chunked, False)
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    assert set(User.objects.values_list("email", flat=True)) == {"framing@example.com", "chunks@example.com"}
