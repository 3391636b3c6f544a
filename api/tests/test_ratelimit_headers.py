"""Limits clients can see: per-user write limits on posts and votes, and the RateLimit-Policy /
RateLimit headers (draft-ietf-httpapi-ratelimit-headers-10) on every limited route, successes
and 429s alike (in-process, local-memory cache; across workers: test_shared_limits.py)."""

import pytest

from api.throttling import CommentRateThrottle, ExportRateThrottle, FollowRateThrottle, check_rates
from testing import PASSWORD
from testing.assertions import assert_error
from testing.clients import client_for, login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limits(settings, frozen_clock):
    """Small limits on a clock stopped at the start of a window: every request falls in one
    window, which has all of its 60 seconds (or hour) to run."""
    settings.POST_RATE = "2/minute"
    settings.VOTE_RATE = "3/minute"
    settings.LOGIN_FAILURE_RATE = "3/minute"
    settings.SIGNUP_RATE = "2/minute"
    settings.PASSWORD_RESET_RATE = "2/hour"


def new_post(client, **extra):
    return client.post("/posts/", {"title": "t", "content": "c"}, format="json", **extra)


def test_posts_carry_the_limit_and_the_third_is_429(user):
    client = client_for(user)
    answers = [new_post(client) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert [answer["RateLimit-Policy"] for answer in answers] == ['"post";q=2;w=60'] * 3
    assert [answer["RateLimit"] for answer in answers] == [
        '"post";r=1;t=60',
        '"post";r=0;t=60',
        '"post";r=0;t=60',
    ]
    assert_error(
        answers[2], 429, "Too many posts. Expected available in 60 seconds.", headers={"Retry-After": "60"}
    )
    assert user.posts.count() == 2


def test_the_post_limit_is_per_user_and_reads_are_not_counted(user, other_user):
    client = client_for(user)
    for _ in range(5):
        reading = client.get("/posts/")
        assert reading.status_code == 200 and "RateLimit" not in reading
    assert [new_post(client).status_code for _ in range(3)] == [201, 201, 429]
    assert new_post(client_for(other_user))["RateLimit"] == '"post";r=1;t=60'


def test_both_vote_directions_count(user, make_post):
    post = make_post(owner=user)
    client = client_for(user)
    vote = lambda direction: client.post("/vote/", {"post_id": post.pk, "dir": direction}, format="json")  # noqa: E731
    answers = [vote(1), vote(0), vote(1), vote(0)]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert [answer["RateLimit"] for answer in answers] == [
        '"vote";r=2;t=60',
        '"vote";r=1;t=60',
        '"vote";r=0;t=60',
        '"vote";r=0;t=60',
    ]
    assert answers[0]["RateLimit-Policy"] == '"vote";q=3;w=60'
    assert_error(
        answers[3], 429, "Too many votes. Expected available in 60 seconds.", headers={"Retry-After": "60"}
    )
    assert post.votes.count() == 1


def test_a_replayed_idempotency_key_is_not_counted_again(user):
    client = client_for(user)
    first = new_post(client, HTTP_IDEMPOTENCY_KEY="k1")
    replays = [new_post(client, HTTP_IDEMPOTENCY_KEY="k1") for _ in range(3)]
    assert first.status_code == 201 and first["RateLimit"] == '"post";r=1;t=60'
    for replay in replays:
        assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
        assert replay["RateLimit"] == '"post";r=1;t=60'
    assert new_post(client).status_code == 201  # the second post of the window
    assert user.posts.count() == 2


def test_a_successful_login_carries_the_limit_without_being_counted(api_client, user):
    for _ in range(5):
        answer = login(api_client, password=PASSWORD)
        assert answer.status_code == 200
        assert answer["RateLimit-Policy"] == '"login-failure";q=3;w=60'
        assert answer["RateLimit"] == '"login-failure";r=3;t=60'
    failures = [login(api_client, password="wrong-pass") for _ in range(4)]
    assert [answer.status_code for answer in failures] == [403, 403, 403, 429]
    assert [answer["RateLimit"] for answer in failures] == [
        f'"login-failure";r={remaining};t=60' for remaining in (2, 1, 0, 0)
    ]


def test_signups_and_password_resets_carry_the_limit(api_client):
    signup = api_client.post("/users/", {"email": "a@example.com", "password": "password123"}, format="json")
    assert signup.status_code == 201
    assert (signup["RateLimit-Policy"], signup["RateLimit"]) == ('"signup";q=2;w=60', '"signup";r=1;t=60')
    answers = [
        api_client.post("/password-reset", {"email": "a@example.com"}, format="json") for _ in range(3)
    ]
    assert [answer.status_code for answer in answers][2] == 429
    assert [answer["RateLimit"] for answer in answers] == [
        f'"password-reset";r={remaining};t=3600' for remaining in (1, 0, 0)
    ]
    assert answers[0]["RateLimit-Policy"] == '"password-reset";q=2;w=3600'


def test_the_headers_are_exposed_to_cors_front_ends(user):
    answer = new_post(client_for(user), HTTP_ORIGIN="https://app.example.com")
    exposed = {name.strip().lower() for name in answer["Access-Control-Expose-Headers"].split(",")}
    assert {"ratelimit-policy", "ratelimit", "retry-after"} <= exposed


def test_the_later_features_limits_are_declared_with_the_contracts_defaults(settings):
    assert (settings.POST_RATE, settings.VOTE_RATE) == ("2/minute", "3/minute")  # this module's
    assert (settings.COMMENT_RATE, settings.FOLLOW_RATE, settings.EXPORT_RATE) == (
        "30/minute",
        "60/minute",
        "5/hour",
    )
    assert [
        throttle.limit.scope for throttle in (CommentRateThrottle, FollowRateThrottle, ExportRateThrottle)
    ] == [
        "comment",
        "follow",
        "export",
    ]
    settings.COMMENT_RATE = "often"
    errors = check_rates()
    assert len(errors) == 1 and errors[0].msg.startswith("COMMENT_RATE: ")
