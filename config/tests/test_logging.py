"""Errors under a real gunicorn: one JSON line on stderr with the traceback and the request id,
and never a password or a token."""

import json

import jwt
from django.conf import settings

from observability.log import REDACTED

PASSWORD = "correct-horse-battery-staple-42"
# Valid for the server (same key), so it gets as far as the missing database.
TOKEN = jwt.encode(
    {"user_id": "1", "token_type": "access", "exp": 9999999999, "jti": "j"}, settings.SECRET_KEY, "HS256"
)


def error_lines(log: str, request_id: str) -> list[str]:
    return [line for line in log.splitlines() if request_id in line]


def test_unexpected_error_is_one_line_with_traceback_and_request_id(server_without_database):
    status, headers, body = server_without_database.request("GET", "/leak")
    assert status == 500
    assert json.loads(body) == {"detail": "Internal Server Error"}
    request_id = headers["X-Request-ID"]
    assert len(request_id) == 32

    [line] = error_lines(server_without_database.log(), request_id)
    record = json.loads(line)
    assert record["level"] == "ERROR" and record["request_id"] == request_id
    assert record["message"] == "Internal Server Error: /leak"
    assert record["traceback"].startswith("Traceback (most recent call last):")
    assert "KeyError" in record["traceback"]


def test_json_too_deep_to_parse_in_a_view_is_a_500_with_its_id_and_a_short_log_line(server_without_database):
    # /leak parses the body itself, as careless code does; the log formatter must not fail
    # (or write the whole recursion) when it looks at that body again for secrets.
    body = b'{"password": "x", "y": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    status, headers, _ = server_without_database.request(
        "POST", "/leak", body, {"Content-Type": "application/json"}
    )
    assert status == 500
    [line] = error_lines(server_without_database.log(), headers["X-Request-ID"])
    assert len(line) < 10_000
    assert "RecursionError" in json.loads(line)["traceback"]


def test_a_4xx_is_only_the_access_line_and_every_line_carries_its_id(server_without_database):
    # Django's "Unauthorized: /users/me" WARNING would repeat gunicorn's access line (status,
    # path, request id) for every 4xx, each 429 of a flood included: it is not written.
    status, headers, _ = server_without_database.request("GET", "/users/me")
    assert status == 401
    records = [
        json.loads(line) for line in error_lines(server_without_database.log(), headers["X-Request-ID"])
    ]
    assert [record for record in records if record["logger"] != "gunicorn.access"] == []
    assert '"request_id": null' not in server_without_database.log()


def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(server_without_database):
    _, headers, _ = server_without_database.request("GET", "/", headers={"X-Request-ID": "lb-7f3a.01"})
    assert headers["X-Request-ID"] == "lb-7f3a.01"
    _, headers, _ = server_without_database.request("GET", "/", headers={"X-Request-ID": 'x" "level": "'})
    assert headers["X-Request-ID"] != 'x" "level": "' and len(headers["X-Request-ID"]) == 32


def test_passwords_and_tokens_never_reach_the_log(server_without_database):
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    # /leak fails as a bug (500); so does every query on a database without the tables, and its
    # traceback must not carry the secrets either.
    requests = [
        ("POST", "/leak", json.dumps({"email": "a@example.com", "password": PASSWORD}), 500),
        ("POST", "/leak", "", 500),
        ("POST", "/login", f"username=a%40example.com&password={PASSWORD}", 500),
        ("POST", "/users/", json.dumps({"email": "a@example.com", "password": PASSWORD}), 500),
        ("GET", "/posts/", "", 500),
    ]
    ids = []
    for method, path, body, expected in requests:
        headers = dict(auth)
        if path == "/login":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, response_headers, _ = server_without_database.request(method, path, body, headers)
        assert status == expected, path
        ids.append(response_headers["X-Request-ID"])

    log = server_without_database.log()
    for request_id in ids:
        assert len(error_lines(log, request_id)) == 1
    assert PASSWORD not in log
    assert TOKEN not in log and TOKEN.split(".")[2] not in log
    # The leaking view's errors were logged, with the secrets taken out.
    assert f"invalid literal for int() with base 10: '{REDACTED}'" in log
    assert f"KeyError: '{REDACTED}'" in log
