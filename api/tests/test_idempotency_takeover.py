"""A retry that found a key's claim unlocked and unanswered takes it over only if it is still
unanswered when it deletes it: its first request may have locked it and committed its answer
in between, and that answer is then replayed, never a second post."""

import threading

import pytest
from django.db import connection
from django.http import HttpResponse

from api import idempotency
from api.models import IdempotencyKey

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_claim_answered_between_the_retrys_look_and_its_delete_is_replayed(monkeypatch):
    claim = IdempotencyKey.objects.create(caller="user:1", key="k", fingerprint="f")
    unowned = idempotency._unowned

    def then_the_first_request_answers(pk: int) -> bool:
        # The real check runs (the claim is unlocked); then, before the retry's DELETE, the first
        # request locks its claim and commits its answer, on a connection of its own.
        found = unowned(pk)

        def answer() -> None:
            IdempotencyKey.objects.filter(pk=pk).update(status=201, body=b'{"id":1}')
            connection.close()

        thread = threading.Thread(target=answer)
        thread.start()
        thread.join()
        return found

    monkeypatch.setattr(idempotency, "_unowned", then_the_first_request_answers)
    replay = idempotency._claim("user:1", "k", "f")
    assert isinstance(replay, HttpResponse)
    assert (replay.status_code, replay.content, replay.headers["Idempotent-Replayed"]) == (
        201,
        b'{"id":1}',
        "true",
    )
    assert list(IdempotencyKey.objects.values_list("pk", "status")) == [(claim.pk, 201)]
