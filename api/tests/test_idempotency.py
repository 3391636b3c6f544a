"""Idempotency-Key on POST /posts/, /vote/ and /users/, over real HTTP (docs/api.md, "HTTP semantics")."""

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.tokens import AccessToken
from api.models import IdempotencyKey
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)

REUSED = {"detail": "Idempotency-Key reused with a different request"}
IN_PROGRESS = {"detail": "A request with this Idempotency-Key is in progress"}
BODY = {"title": "once", "content": "only once"}


def key(value: str) -> dict:
    return {"Idempotency-Key": value}


def test_retry_gets_the_first_answer_and_writes_nothing(call, make_user):
    user = make_user()
    first = call("POST", "/posts/", user=user, json_body=BODY, headers=key("k-1"))
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    # Another spelling of the path and of the same JSON is the same request.
    retry = call(
        "POST", "/posts", user=user, json_body={"content": "only once", "title": "once"}, headers=key("k-1")
    )
    assert (retry.status, retry.body) == (201, first.body)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Content-Type"] == "application/json"
    assert Post.objects.count() == 1


def test_same_key_with_another_body_is_422_and_writes_nothing(call, make_user):
    user = make_user()
    assert call("POST", "/posts/", user=user, json_body=BODY, headers=key("k")).status == 201
    answer = call("POST", "/posts/", user=user, json_body={**BODY, "title": "twice"}, headers=key("k"))
    assert (answer.status, answer.json()) == (422, REUSED)
    voted = call("POST", "/vote/", user=user, json_body={"post_id": 1, "dir": 1}, headers=key("k"))
    assert (voted.status, voted.json()) == (422, REUSED)
    assert list(Post.objects.values_list("title", flat=True)) == ["once"]


def test_keys_of_different_callers_never_collide(call, make_user):
    alice, bob = make_user(), make_user()
    assert call("POST", "/posts/", user=alice, json_body=BODY, headers=key("shared")).status == 201
    answer = call("POST", "/posts/", user=bob, json_body={**BODY, "title": "bob's"}, headers=key("shared"))
    assert answer.status == 201
    assert "Idempotent-Replayed" not in answer.headers
    assert answer.json()["owner_id"] == bob.pk


def test_eight_concurrent_retries_create_one_post(call, make_user):
    user = make_user()
    barrier = threading.Barrier(8)

    def send(_):
        barrier.wait()
        return call("POST", "/posts/", user=user, json_body=BODY, headers=key("burst"))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert Post.objects.count() == 1
    created = [answer for answer in answers if answer.status == 201]
    assert created, [answer.status for answer in answers]
    assert {answer.status for answer in answers} <= {201, 409}
    assert all(answer.json() == IN_PROGRESS for answer in answers if answer.status == 409)
    assert {answer.body for answer in created} == {created[0].body}
    assert call("POST", "/posts/", user=user, json_body=BODY, headers=key("burst")).body == created[0].body


def test_retry_while_the_first_is_answered_is_409(call):
    # A signup hashes its password (about 0.3 s): the retry arrives while it runs.
    body = {"email": "slow@example.com", "password": "password123"}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(call, "POST", "/users/", json_body=body, headers=key("signup"))
        time.sleep(0.05)
        second = pool.submit(call, "POST", "/users/", json_body=body, headers=key("signup"))
        answers = sorted([first.result(), second.result()], key=lambda answer: answer.status)
    assert [answer.status for answer in answers] == [201, 409]
    assert answers[1].json() == IN_PROGRESS
    replay = call("POST", "/users/", json_body=body, headers=key("signup"))
    assert (replay.status, replay.body, replay.headers["Idempotent-Replayed"]) == (
        201,
        answers[0].body,
        "true",
    )
    assert User.objects.filter(email="slow@example.com").count() == 1


def test_vote_retry_replays_instead_of_409(call, make_user):
    user = make_user()
    post = Post.objects.create(owner=user, title="t", content="c")
    body = {"post_id": post.pk, "dir": 1}
    first = call("POST", "/vote/", user=user, json_body=body, headers=key("v"))
    retry = call("POST", "/vote/", user=user, json_body=body, headers=key("v"))
    assert (first.status, retry.status, retry.body) == (201, 201, first.body)
    assert retry.json() == {"message": "successfully added vote"}
    assert Vote.objects.count() == 1
    assert call("POST", "/vote/", user=user, json_body=body).status == 409  # without a key, as before


def test_an_answer_that_changed_nothing_frees_the_key(call, make_user):
    user = make_user()
    invalid = call("POST", "/posts/", user=user, json_body={"title": "no content"}, headers=key("fix-me"))
    assert invalid.status == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "content"]
    assert call("POST", "/posts/", user=user, json_body=BODY, headers=key("fix-me")).status == 201
    assert IdempotencyKey.objects.filter(key="fix-me").exclude(status=None).count() == 1


def test_a_lone_surrogate_in_a_keyed_body_is_422(server, make_user):
    answer = server.request(
        "POST",
        "/posts/",
        b'{"title": "\\ud800", "content": "c"}',
        {"Content-Type": "application/json", "Idempotency-Key": "surrogate"},
        token=str(AccessToken.for_user(make_user())),
    )
    assert answer.status == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "title"]


@pytest.mark.parametrize("value", ["", "a" * 256, "with space", "tab\tkey"])
def test_a_malformed_key_is_422(call, make_user, value):
    answer = call("POST", "/posts/", user=make_user(), json_body=BODY, headers=key(value))
    assert answer.status == 422
    assert answer.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert Post.objects.count() == 0


def test_a_key_older_than_a_day_is_new_again_and_purged(call, make_user):
    user = make_user()
    assert call("POST", "/posts/", user=user, json_body=BODY, headers=key("old")).status == 201
    assert call("POST", "/posts/", user=user, json_body=BODY, headers=key("recent")).status == 201
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    again = call("POST", "/posts/", user=user, json_body={**BODY, "title": "new"}, headers=key("old"))
    assert again.status == 201
    assert "Idempotent-Replayed" not in again.headers
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    out = io.StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue().startswith("Deleted 1 ")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert Post.objects.count() == 3


def test_an_abandoned_claim_is_taken_over(call, make_user):
    user = make_user()
    first = call("POST", "/posts/", user=user, json_body=BODY, headers=key("crashed"))
    # As a worker killed mid-request leaves it: the claim, and no answer (its work rolled back).
    Post.objects.all().delete()
    IdempotencyKey.objects.filter(key="crashed").update(
        status=None, body=None, created_at=timezone.now() - timedelta(minutes=6)
    )
    again = call("POST", "/posts/", user=user, json_body=BODY, headers=key("crashed"))
    assert again.status == 201
    assert again.json()["id"] != first.json()["id"]
    assert Post.objects.count() == 1
