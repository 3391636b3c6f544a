"""Two gunicorn instances on different ports, one database and one Redis: they behave as one
service, as instances behind a load balancer must."""

import os
import time

import pytest
import redis

from posts.models import Post
from testing.databases import TEST_REDIS_URL
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)


def access_token(server, email: str) -> str:
    """The access token of a login (with PASSWORD) on `server`, which must succeed."""
    answer = server.login(email)
    assert answer.status == 200, answer.body
    return answer.json()["access_token"]


def test_tokens_votes_and_posts_are_shared_between_instances(gunicorn):
    a, b = gunicorn(), gunicorn()
    assert a.port != b.port

    signup = a.request("POST", "/users/", json_body={"email": "bo@example.com", "password": "password123"})
    assert signup.status == 201, signup.body
    # The same email on the other instance is the same user: a conflict, not a second account.
    assert (
        b.request("POST", "/users/", json_body={"email": "bo@example.com", "password": "x-password-9"}).status
        == 409
    )

    token_from_b = access_token(b, "bo@example.com")
    written_on_a = a.request(
        "POST", "/posts/", json_body={"title": "on A", "content": "c"}, token=token_from_b
    )
    assert written_on_a.status == 201, written_on_a.body
    post_id = written_on_a.json()["id"]

    token_from_a = access_token(a, "bo@example.com")
    read_on_b = b.request("GET", f"/posts/{post_id}", token=token_from_a)
    assert read_on_b.status == 200, read_on_b.body
    assert read_on_b.json()["Post"]["title"] == "on A"

    first = a.request("POST", "/vote/", json_body={"post_id": post_id, "dir": 1}, token=token_from_a)
    assert first.status == 201, first.body
    again = b.request("POST", "/vote/", json_body={"post_id": post_id, "dir": 1}, token=token_from_b)
    user_id = signup.json()["id"]
    assert (again.status, again.json()) == (
        409,
        {"detail": f"user {user_id} has already voted on post {post_id}"},
    )

    assert [item["votes"] for item in b.request("GET", "/posts/", token=token_from_a).json()] == [1]
    assert Post.objects.filter(pk=post_id, owner_id=user_id).exists()
    assert Vote.objects.filter(post_id=post_id).count() == 1


@pytest.fixture
def clean_redis():
    """Counters left by an earlier run (within the limit's window) would skew the count."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError:
        if os.environ.get("CI"):  # .ci/run starts Redis; there its absence is a failure
            raise
        pytest.skip(f"no Redis at {TEST_REDIS_URL} (CI starts one)")
    yield
    client.flushdb()


def test_failed_login_limit_counts_across_instances(gunicorn, clean_redis):
    # Hourly windows, started well inside one: the limit counts in fixed windows, and five
    # logins split across a window's end would be counted in two.
    a = gunicorn(LOGIN_FAILURE_RATE="3/hour")
    b = gunicorn(LOGIN_FAILURE_RATE="3/hour")
    bad = {"username": "nobody@example.com", "password": "wrong-password"}
    left = 3600 - time.time() % 3600
    if left < 60:
        time.sleep(left + 0.1)

    statuses = [server.request("POST", "/login", form=bad).status for server in (a, b, a, b, a)]

    # Three failures are allowed in all, not three per instance.
    assert statuses == [403, 403, 403, 429, 429]
    limited = b.request("POST", "/login", form=bad)
    assert limited.status == 429
    assert int(limited.headers["retry-after"]) > 0
