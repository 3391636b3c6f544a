"""Delivery with real processes: the API under gunicorn, the worker (`manage.py worker`), and a
receiver on loopback in the test. CONTRACT.md §7.6."""

import json
import os
import signal
import time
from collections import Counter

import pytest
from django.db import transaction

from moderation import services as moderation
from posts.models import Post
from testing.receiver import receiver, verified
from testing.servers import gunicorn
from testing.sessions import session
from testing.worker import worker
from webhooks import events
from webhooks.models import Attempt, Delivery

pytestmark = pytest.mark.django_db(transaction=True)

POST = {"title": "a title", "content": "some content"}


def write(server, method, path, user, body=None):
    return server.request(method, path, json_body=body, token=session(user)["access_token"])


def test_each_event_type_arrives_once_per_endpoint_signed(server, make_endpoint, make_user):
    owner, voter, staff = (
        make_user("owner@example.com"),
        make_user("voter@example.com"),
        make_user(is_staff=True),
    )
    with receiver() as hooks, worker():
        first, second = make_endpoint(hooks.url("/one")), make_endpoint(hooks.url("/two"))
        created = write(server, "POST", "/posts/", owner, POST)
        assert created.status == 201
        post_id = created.json()["id"]
        assert write(server, "PUT", f"/posts/{post_id}", owner, {**POST, "title": "new"}).status == 200
        assert write(server, "POST", "/vote/", voter, {"post_id": post_id, "dir": 1}).status == 201
        assert write(server, "POST", "/vote/", voter, {"post_id": post_id, "dir": 0}).status == 201
        report = write(server, "POST", f"/posts/{post_id}/report", voter, {"reason": "spam"})
        assert report.status == 201, report.body
        moderation.hide(moderator=staff, posts=[Post.objects.get(pk=post_id)], reason="spam it is")
        moderation.restore(moderator=staff, posts=[Post.objects.get(pk=post_id)])
        assert write(server, "DELETE", f"/posts/{post_id}", owner).status == 204
        expected = [
            "post.created", "post.updated", "vote.created", "vote.deleted", "report.created",
            "moderation.action", "moderation.action", "post.deleted",
        ]  # fmt: skip
        for endpoint in (first, second):
            path = "/" + endpoint.url.rsplit("/", 1)[1]
            got = hooks.wait_for(len(expected), path=path)
            bodies = [verified(request, endpoint.secret) for request in got]
            assert sorted(body["type"] for body in bodies) == sorted(expected)
            assert len({request.headers["webhook-id"] for request in got}) == len(expected)
            for body in bodies:
                assert set(body) == {"type", "timestamp", "data"}
                assert body["timestamp"].endswith("+00:00")
                assert body["data"]["post_id"] == post_id
            actions = [b["data"] for b in bodies if b["type"] == "moderation.action"]
            assert sorted((a["action"], a["reason"]) for a in actions) == [
                ("hide", "spam it is"),
                ("restore", ""),
            ]
        time.sleep(0.5)  # nothing more comes: once per endpoint
        assert len(hooks.requests) == 2 * len(expected)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_receiver_failing_three_times_then_200_gets_the_event_with_one_webhook_id(make_endpoint):
    with receiver(answers=[500, 503, 429]) as hooks, worker():
        endpoint = make_endpoint(hooks.url(), events=["post.created"])
        with transaction.atomic():
            events.record("post.created", {"post_id": 1, "user_id": 2})
        got = hooks.wait_for(4)
        assert len({request.headers["webhook-id"] for request in got}) == 1
        assert verified(got[-1], endpoint.secret)["data"] == {"post_id": 1, "user_id": 2}
        deadline = time.monotonic() + 10
        while Delivery.objects.get().status != "delivered":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    codes = list(Attempt.objects.order_by("attempted_at").values_list("status_code", "response_head"))
    assert codes == [(500, "not now"), (503, "not now"), (429, "not now"), (200, "ok")]
    assert Delivery.objects.get().attempts == 4


def test_a_failed_write_sends_nothing(server, make_endpoint, make_user):
    owner = make_user("owner@example.com")
    post = Post.objects.create(owner=owner, title="t", content="c")
    with receiver() as hooks, worker():
        make_endpoint(hooks.url())
        assert write(server, "POST", "/vote/", owner, {"post_id": post.pk, "dir": 1}).status == 201
        assert write(server, "POST", "/vote/", owner, {"post_id": post.pk, "dir": 1}).status == 409
        assert write(server, "POST", "/vote/", owner, {"post_id": post.pk + 1000, "dir": 1}).status == 404
        assert write(server, "POST", "/posts/", owner, {"title": ""}).status == 422
        assert write(server, "POST", f"/posts/{post.pk}/report", owner, {"reason": "nonsense"}).status == 422
        with pytest.raises(RuntimeError), transaction.atomic():
            events.record("post.created", {"post_id": 0})
            raise RuntimeError("rolled back")
        # A last event, so that anything recorded before it has arrived by the time it does.
        with transaction.atomic():
            events.record("post.deleted", {"post_id": -1})
        hooks.wait_for(2)
        time.sleep(0.3)
    # The delivery threads run side by side: the two may come in either order.
    types = sorted(json.loads(r.body)["type"] for r in hooks.requests)
    assert types == ["post.deleted", "vote.created"]


def test_killed_worker_with_events_pending_delivers_them_after_a_restart(make_endpoint):
    # The receiver holds each request past the worker's 1 s timeout, so none is delivered and
    # the worker is in the middle of attempts when it is killed.
    with receiver(delay=5) as hooks, worker() as running:
        make_endpoint(hooks.url(), events=["post.created"])
        with transaction.atomic():
            for n in range(5):
                events.record("post.created", {"post_id": n})
        hooks.wait_for(1)
        running.kill()
        before = {r.headers["webhook-id"] for r in hooks.requests}
        assert Delivery.objects.filter(status="pending").exists()
        running.start()
        hooks.delay = 0
        deadline = time.monotonic() + 30
        while Delivery.objects.filter(status="pending").exists():
            assert time.monotonic() < deadline, "not delivered after the restart"
            time.sleep(0.1)
    ids = {r.headers["webhook-id"] for r in hooks.requests}
    assert len(ids) == 5 and before <= ids
    assert len(Counter(r.body for r in hooks.requests)) == 5


def test_killed_api_right_after_a_commit_still_delivers(make_endpoint, make_user):
    owner = make_user("owner@example.com")
    with receiver() as hooks:
        endpoint = make_endpoint(hooks.url(), events=["post.created"])
        with gunicorn({}, workers=1) as api:
            created = write(api, "POST", "/posts/", owner, POST)
            os.killpg(api.process.pid, signal.SIGKILL)
        assert created.status == 201
        with worker():
            [request] = hooks.wait_for(1)
        assert verified(request, endpoint.secret)["data"] == {
            "post_id": created.json()["id"],
            "user_id": owner.pk,
        }


def test_a_receiver_that_never_answers_is_cut_off_and_does_not_hold_the_others(make_endpoint):
    with receiver(delay=30) as silent, receiver() as fast, worker({"WEBHOOK_DELIVERY_THREADS": "1"}):
        make_endpoint(silent.url(), events=["post.created"])
        make_endpoint(fast.url(), events=["post.created"])
        with transaction.atomic():
            for n in range(3):
                events.record("post.created", {"post_id": n})
        # One thread: the silent receiver's attempts end at the 1 s timeout, and the fast one's
        # deliveries go between them.
        assert len(fast.wait_for(3, timeout=20)) == 3
        deadline = time.monotonic() + 20
        while not Attempt.objects.filter(delivery__endpoint__url=silent.url(), status_code=None).exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
    cut = Attempt.objects.filter(status_code=None).first()
    assert "Timeout" in cut.error and cut.duration_ms < 5000
