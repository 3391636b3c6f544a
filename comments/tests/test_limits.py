"""COMMENT_RATE: new comments per user (docs/comments.md)."""

import pytest
from django.core.cache import cache

from comments.models import Comment
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_a_minute(settings):
    settings.COMMENT_RATE = "2/minute"
    cache.clear()
    yield
    cache.clear()


def test_past_the_limit_is_429_with_retry_after_and_replays_are_not_counted(auth_client, other_client, post):
    url = f"/posts/{post.pk}/comments"
    key = {"Idempotency-Key": "k1"}
    assert auth_client.post(url, {"content": "one"}, headers=key).status_code == 201
    for _ in range(3):  # replays change nothing and are not counted
        assert auth_client.post(url, {"content": "one"}, headers=key).headers["Idempotent-Replayed"] == "true"
    for _ in range(3):  # reads are not counted
        assert auth_client.get(url).status_code == 200
    second = auth_client.post(url, {"content": "two"})
    assert second.status_code == 201
    assert second.headers["RateLimit-Policy"] == '"comment";q=2;w=60'
    assert second.headers["RateLimit"].startswith('"comment";r=0;t=')
    refused = auth_client.post(url, {"content": "three"})
    body = assert_error(refused, 429)
    assert refused.headers["RateLimit"].startswith('"comment";r=0;')
    assert body["detail"].startswith("Too many comments.") and int(refused.headers["Retry-After"]) > 0
    assert other_client.post(url, {"content": "theirs"}).status_code == 201  # per user
    assert sorted(Comment.objects.values_list("content", flat=True)) == ["one", "theirs", "two"]
