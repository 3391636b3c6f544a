"""A database that hangs (answers nothing, connections open) or a statement that waits too long
is 503 with Retry-After within seconds, /health included, under a real gunicorn; service comes
back by itself. The hang is the outage proxy holding every byte (testing/db_proxy.py)."""

import json

import pytest
from django.db import connection, transaction

from accounts.tokens import AccessToken
from outage.responses import RETRY_AFTER_SECONDS
from posts.models import Post
from testing.assertions import assert_error
from testing.databases import database_env
from testing.db_proxy import DatabaseProxy
from testing.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE = "Database unavailable"
RETRY = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def test_a_hung_database_is_503_within_seconds(make_user):
    user = make_user("alice@example.com")
    post = Post.objects.create(owner=user, title="t", content="c")
    proxy = DatabaseProxy(connection.settings_dict["HOST"], connection.settings_dict["PORT"])
    proxy.start()
    env = {**database_env(), "DATABASE_HOSTNAME": "127.0.0.1", "DATABASE_PORT": str(proxy.port)}
    env["DATABASE_STATEMENT_TIMEOUT"] = "2"
    token = str(AccessToken.for_user(user))
    try:
        with gunicorn(env, workers=1) as server:
            assert server.request("GET", "/posts/", token=token).status == 200  # connection open
            proxy.pause()
            # Without bounds each of these hung until the client gave up (here: 15 s).
            for method, path in [("GET", "/health"), ("GET", "/posts/"), ("GET", f"/posts/{post.pk}")]:
                answer = server.request(method, path, token=token, timeout=15)
                assert_error(answer, 503, UNAVAILABLE, headers=RETRY)
            # A new connection to a hung server gives up too (connect_timeout).
            assert_error(server.request("GET", "/health", timeout=15), 503, UNAVAILABLE, headers=RETRY)
            proxy.resume()
            status, _, body = server.request("GET", f"/posts/{post.pk}", token=token)
            assert status == 200 and json.loads(body)["Post"]["title"] == "t"
            assert server.request("GET", "/health").status == 200
    finally:
        proxy.resume()
        proxy.stop()


def test_a_statement_past_the_timeout_is_503(make_user):
    user = make_user("bob@example.com")
    post = Post.objects.create(owner=user, title="t", content="c")
    token = str(AccessToken.for_user(user))
    with gunicorn({"DATABASE_STATEMENT_TIMEOUT": "1"}, workers=1) as server:
        with transaction.atomic():
            Post.objects.select_for_update().get(pk=post.pk)  # the edit below waits on this lock
            answer = server.request(
                "PUT", f"/posts/{post.pk}", json_body={"title": "new", "content": "c"}, token=token
            )
            assert_error(answer, 503, UNAVAILABLE, headers=RETRY)
        assert server.request("GET", "/posts/", token=token).status == 200
    assert Post.objects.get(pk=post.pk).title == "t"
