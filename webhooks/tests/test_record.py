"""The outbox: an event is written in the change's transaction, for the endpoints that want it."""

from datetime import timedelta

import pytest
from django.db import transaction

from webhooks import events
from webhooks.delivery import retry_delay
from webhooks.event_types import EventType
from webhooks.models import Delivery, Endpoint, Event
from webhooks.queue import queue_stats
from webhooks.signing import new_secret

pytestmark = pytest.mark.django_db


def endpoint(events_: list[str], **fields) -> Endpoint:
    return Endpoint.objects.create(
        url="https://hooks.example.com/", events=events_, secret=new_secret(), **fields
    )


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    endpoint(list(EventType.values))
    with pytest.raises(events.NotInTransaction):
        events.record("post.created", {"post_id": 1})
    assert not Event.objects.exists()


def test_unknown_event_type_is_refused():
    with transaction.atomic(), pytest.raises(ValueError, match="unknown event type"):
        events.record("post.liked", {})


def test_one_delivery_per_active_subscribed_endpoint():
    wants = endpoint(["post.created", "vote.created"])
    endpoint(["vote.created"])
    endpoint(["post.created"], is_active=False)
    with transaction.atomic():
        events.record("post.created", {"post_id": 7, "user_id": 3})
    [event] = Event.objects.all()
    assert (event.type, event.data) == ("post.created", {"post_id": 7, "user_id": 3})
    assert list(Delivery.objects.values_list("endpoint", "status", "attempts")) == [(wants.pk, "pending", 0)]
    [delivery] = Delivery.objects.all()
    assert delivery.give_up_at - delivery.created_at == timedelta(days=1)


def test_no_endpoint_wants_it_and_nothing_is_written():
    endpoint(["vote.created"])
    with transaction.atomic():
        events.record("post.created", {"post_id": 7})
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_a_rolled_back_change_leaves_no_event():
    endpoint(list(EventType.values))
    with pytest.raises(RuntimeError), transaction.atomic():
        events.record("post.created", {"post_id": 7})
        raise RuntimeError("the change failed")
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_queue_stats_count_pending_deliveries_and_the_oldest_age():
    assert queue_stats().depth == 0 and queue_stats().oldest_age == 0.0
    endpoint(list(EventType.values))
    endpoint(list(EventType.values))
    with transaction.atomic():
        events.record("post.created", {"post_id": 7})
    stats = queue_stats()
    assert stats.depth == 2 and stats.oldest_age >= 0.0
    Delivery.objects.update(status=Delivery.Status.DELIVERED)
    assert queue_stats().depth == 0


def test_retry_delays_double_from_the_first_up_to_the_cap(settings):
    settings.WEBHOOK_RETRY_FIRST, settings.WEBHOOK_RETRY_MAX_DELAY = 5, 3600
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[0] <= 10
    assert delays == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]


def test_a_vote_and_its_event_are_one_statement_and_a_refused_vote_has_none(user, make_post):
    from votes import services

    endpoint(["vote.created", "vote.deleted"])
    post = make_post()
    services.cast_vote(user=user, post_id=post.pk)
    with pytest.raises(services.AlreadyVoted):
        services.cast_vote(user=user, post_id=post.pk)
    services.retract_vote(user=user, post_id=post.pk)
    with pytest.raises(services.NoVote):
        services.retract_vote(user=user, post_id=post.pk)
    recorded = list(Event.objects.order_by("created_at").values_list("type", "data"))
    assert recorded == [
        ("vote.created", {"post_id": post.pk, "user_id": user.pk}),
        ("vote.deleted", {"post_id": post.pk, "user_id": user.pk}),
    ]
