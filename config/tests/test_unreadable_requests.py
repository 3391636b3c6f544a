"""A request gunicorn cannot read (a request line over its limit, a header line over its limit, a
malformed request line or HTTP version, a repeated Host) is answered by gunicorn itself, before the app: with
its status (414, 431, 400), but in the API's error shape, JSON `{"detail": ...}`, like every
other error answer, and it is documented where a client's own data makes the URL long."""

import json
import socket

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

# Each: the raw request head (its request line and headers, without the blank line ending it),
# the status, and a word the detail names.
UNREADABLE = {
    "request-line-too-long": (
        "GET /posts/?cursor=" + "x" * 6000 + " HTTP/1.1\r\nHost: localhost",
        414,
        "too large",
    ),
    "header-too-long": ("GET /posts/ HTTP/1.1\r\nHost: localhost\r\nX-Long: " + "y" * 9000, 431, "header"),
    "bad-http-version": ("GET /posts/ HTTP/1.1 extra\r\nHost: localhost", 400, "http version"),
    "bad-request-line": ("GET\r\nHost: localhost", 400, "request line"),
    "repeated-host": ("GET /posts/ HTTP/1.1\r\nHost: localhost\r\nHost: example.com", 400, "host"),
    # gunicorn quotes a header line without a colon whole: the detail keeps its start only.
    "header-without-colon": (
        "GET /posts/ HTTP/1.1\r\nHost: localhost\r\n" + "\u00e9" * 100_000,
        400,
        "header",
    ),
}


def exchange(port: int, head: str) -> tuple[bytes, bytes]:
    """Send one raw request head; the answer's head and body, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n")
        answer = b""
        while data := sock.recv(65536):
            answer += data
    answer_head, _, body = answer.partition(b"\r\n\r\n")
    return answer_head, body


@pytest.mark.parametrize("case", UNREADABLE)
def test_an_unreadable_request_is_answered_in_the_error_shape(server, case):
    head, status, word = UNREADABLE[case]
    answer_head, body = exchange(server.port, head)
    status_line, *header_lines = answer_head.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)
    }
    assert status_line.split(" ")[1] == str(status), answer_head
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    detail = json.loads(body)
    assert list(detail) == ["detail"] and word in detail["detail"].lower(), detail
    assert len(body) < 2000
    assert server.request("GET", "/health").status == 200  # and the server goes on serving


def test_a_long_url_is_documented_where_the_client_makes_the_url(api_client):
    schema = api_client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            carries_data = "{" in path or any(p["in"] == "query" for p in operation.get("parameters", []))
            assert ("414" in operation["responses"]) == carries_data, (method, path)
    assert schema["paths"]["/posts/"]["get"]["responses"]["414"]["content"]["application/json"]
    assert "414" in schema["paths"]["/posts/{id}"]["get"]["responses"]
    assert "414" not in schema["paths"]["/login"]["post"]["responses"]
