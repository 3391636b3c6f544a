"""A database that cannot answer is 503 "Database unavailable" with Retry-After on every route
that needs it, one log line per failure and no traceback, and service comes back by itself.

Real outages, under a real gunicorn: the database behind a proxy that is cut (connections
refused, open ones dropped) and restored; a statement cancelled by `statement_timeout`; a
write refused by a read-only database.
"""

import json
import re
import time

import jwt
import psycopg
import pytest
from django.conf import settings
from django.core.signals import request_started
from django.db import connection, transaction

from accounts.models import User
from api.authentication import SECURITY_STAMP_CLAIM
from outage.responses import RETRY_AFTER_SECONDS
from posts.models import Post
from testing.assertions import assert_error
from testing.databases import database_env, database_url
from testing.db_proxy import DatabaseProxy
from testing.schema_check import api_schema, check
from testing.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE = {"detail": "Database unavailable"}
PASSWORD = "password123"


def token_for(user: User) -> str:
    now = int(time.time())
    claims = {"user_id": user.pk, "token_type": "access", "iat": now, "exp": now + 600, "jti": "outage"}
    claims[SECURITY_STAMP_CLAIM] = user.security_stamp
    return jwt.encode(claims, settings.SECRET_KEY, "HS256")


def public_requests(post_id: int) -> list[tuple[str, str, dict]]:
    """Requests to the routes that need no token, each valid up to its first query."""
    return [
        ("POST", "/users/", {"json_body": {"email": "new@example.com", "password": PASSWORD}}),
        ("GET", "/users/1", {}),
        ("POST", "/login", {"form": {"username": "a@example.com", "password": PASSWORD}}),
        ("GET", "/health", {}),
    ]


def authenticated_operations(post_id: int) -> list[tuple[str, str]]:
    """Every documented operation that needs a token, with its path ids filled in."""
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", str(post_id), template))
        for template, item in api_schema()["paths"].items()
        for method, operation in item.items()
        if any("OAuth2PasswordBearer" in requirement for requirement in operation.get("security", []))
    ]


def assert_unavailable(server, method: str, path: str, **kwargs) -> str:
    """The request is the outage's 503 (checked against the schema too); its request id."""
    status, headers, body = answer = server.request(method, path, **kwargs)
    assert_error(answer, 503, UNAVAILABLE["detail"], headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    check(method, path, status, headers["Content-Type"], body)
    return headers["X-Request-ID"]


def assert_one_line_each(log: str, request_ids: list[str]) -> None:
    for request_id in request_ids:
        lines = [json.loads(line) for line in log.splitlines() if request_id in line]
        assert len(lines) == 1, lines
        assert lines[0]["level"] == "WARNING" and "traceback" not in lines[0]
        assert lines[0]["message"].startswith("database unavailable: ")


def test_database_gone_then_back(make_user):
    user = make_user("alice@example.com")
    post = Post.objects.create(owner=user, title="t", content="c")
    proxy = DatabaseProxy(connection.settings_dict["HOST"], connection.settings_dict["PORT"])
    proxy.start()
    env = {**database_env(), "DATABASE_HOSTNAME": "127.0.0.1", "DATABASE_PORT": str(proxy.port)}
    token = token_for(user)
    try:
        with gunicorn(env, workers=1) as server:
            assert server.request("GET", "/posts/", token=token).status == 200  # connection open

            proxy.stop()
            ids = [
                assert_unavailable(server, method, path, token=token)
                for method, path in authenticated_operations(post.pk)
            ]
            ids += [
                assert_unavailable(server, method, path, **kwargs)
                for method, path, kwargs in public_requests(post.pk)
            ]
            assert len(ids) >= 10
            # What needs no database still answers.
            assert server.request("GET", "/").status == 200
            assert_one_line_each(server.log(), ids)

            proxy.start()
            status, _, body = server.request("GET", f"/posts/{post.pk}", token=token)
            assert status == 200 and json.loads(body)["Post"]["title"] == "t"
    finally:
        proxy.stop()


def test_statement_timeout_and_read_only_database(make_user):
    user = make_user("bob@example.com")
    token = token_for(user)
    env = {"PGOPTIONS": "-c statement_timeout=500 -c default_transaction_read_only=on"}
    with gunicorn(env, workers=1) as server:
        assert server.request("GET", "/posts/", token=token).status == 200  # reads work
        ids = [
            assert_unavailable(
                server, "POST", "/posts/", json_body={"title": "t", "content": "c"}, token=token
            ),
            assert_unavailable(
                server, "POST", "/users/", json_body={"email": "c@example.com", "password": PASSWORD}
            ),
        ]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE posts_post IN ACCESS EXCLUSIVE MODE")
            ids.append(assert_unavailable(server, "GET", "/posts/", token=token))
        assert server.request("GET", "/posts/", token=token).status == 200
        assert_one_line_each(server.log(), ids)
    assert not Post.objects.exists()


def test_a_connection_the_server_ended_is_replaced_before_the_next_requests_query(make_user):
    """A request's health check (config/postgresql/base.py) runs ``SELECT 1`` at most once a
    second per connection; in between it looks at the socket. A session the server ended a
    moment after the last check (a restart, pg_terminate_backend) is still found and replaced
    before the next request's first query, which then succeeds instead of answering 503."""
    user = make_user("carol@example.com")
    request_started.send(sender=None)
    assert User.objects.get(pk=user.pk).email == "carol@example.com"  # checked just now
    ended = connection.connection.info.backend_pid
    with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [ended]).fetchone() == (True,)
        for _ in range(100):  # the backend's exit, and with it the socket's end, follow shortly
            if not other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [ended]).fetchone():
                break
            time.sleep(0.01)
    request_started.send(sender=None)  # the next request, well within the second
    assert User.objects.get(pk=user.pk).email == "carol@example.com"
    assert connection.connection.info.backend_pid != ended
