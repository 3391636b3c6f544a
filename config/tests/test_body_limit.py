"""Every body of every content type is held to DATA_UPLOAD_MAX_MEMORY_SIZE (413), multipart
file parts included, and no request writes a temporary file: a real gunicorn, its TMPDIR
watched."""

import http.client
import json
import secrets

import pytest
from django.conf import settings

from testing.servers import gunicorn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_hasher]

TOO_LARGE = {"detail": "Request body too large"}
BOUNDARY = "limit-test-boundary"


def multipart(file_size: int) -> bytes:
    """A login form with a file part of `file_size` random bytes."""
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="username"\r\n\r\nowner@example.com\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="password"\r\n\r\npassword123\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + secrets.token_bytes(file_size)
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def send(port: int, path: str, body: bytes, content_type: str, *, chunked: bool = False):
    """POST the body (with a length, or chunked in 64 KiB pieces); (status, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": content_type}
        if chunked:
            pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
            conn.request("POST", path, body=pieces, headers=headers, encode_chunked=True)
        else:
            conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def test_bodies_past_the_limit_are_413_whatever_their_type(make_user, tmp_path):
    make_user("owner@example.com")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    spool = tmp_path / "tmp"
    spool.mkdir()
    with gunicorn({"TMPDIR": str(spool)}, workers=1) as server:
        form = f"multipart/form-data; boundary={BOUNDARY}"
        big = limit + 1024
        for path, body, content_type in [
            ("/login", multipart(big), form),
            ("/users/", multipart(big), form),
            ("/posts/", secrets.token_bytes(big), "application/octet-stream"),
            ("/login", b"x" * big, "text/plain"),
        ]:
            for chunked in (False, True):
                assert send(server.port, path, body, content_type, chunked=chunked) == (413, TOO_LARGE), (
                    path,
                    content_type,
                    chunked,
                )
        # A file part within the limit is read in memory: the login works, nothing is spooled.
        status, answer = send(server.port, "/login", multipart(limit // 2), form)
        assert status == 200 and answer["token_type"] == "bearer"
        assert server.request("GET", "/health").status == 200
    assert list(spool.iterdir()) == []
