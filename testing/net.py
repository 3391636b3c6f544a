"""Talking to a server over real HTTP: a free port, and one request over a new connection."""

import http.client
import json
import socket
import urllib.parse
from typing import NamedTuple

from django.utils.datastructures import CaseInsensitiveMapping


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Response(NamedTuple):
    """Also unpacks as (status, headers, body); header names are case-insensitive."""

    status: int
    headers: CaseInsensitiveMapping
    body: bytes

    def json(self):
        return json.loads(self.body)


def http_request(
    port: int,
    method: str,
    path: str,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    json_body: object = None,
    form: dict | None = None,
    token: str | None = None,
    timeout: float | None = 15,
) -> Response:
    """One request over a new connection to 127.0.0.1:`port`: a JSON body, a form or raw bytes,
    and a bearer token if given. Raises OSError (a timeout included) when no answer comes."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return Response(answer.status, CaseInsensitiveMapping(answer.getheaders()), answer.read())
    finally:
        conn.close()
