"""Recording an event: one call inside the transaction of the change it describes.

    from webhooks import events

    with transaction.atomic():
        comment = Comment.objects.create(...)
        events.record("comment.created", {"comment_id": comment.pk, "post_id": ..., "user_id": ...})

The event and one delivery per active endpoint subscribed to its type are written by a single
statement in the caller's transaction: if the change rolls back, so does the event, and once
it commits the deliveries are in the database for the worker, whatever happens to the process
that made it. With no endpoint subscribed nothing is written.
"""

import json
import uuid
from typing import Any

from django.conf import settings
from django.db import connections, router

from webhooks.event_types import EventType
from webhooks.models import Delivery, Endpoint, Event


def fan_out(*, after: str = "", data: str = "%(event_data)s") -> str:
    """The SQL common table expressions that record an event and its deliveries, to follow a
    ``WITH``; parameters from ``event_params()``. With ``after``, the name of an earlier
    expression of the same statement (a change with ``RETURNING``), the event is recorded only
    if that change returned a row: a change and its event in one statement, one round trip.
    ``data`` is the SQL of the event's data (a jsonb value): the ``event_data`` parameter, or
    an expression over ``after``'s row for ids the change itself makes (a new post's id)."""
    guard = f" AND EXISTS (SELECT FROM {after})" if after else ""
    return f"""
    endpoints AS (
        SELECT id FROM {Endpoint._meta.db_table} WHERE is_active AND %(event_type)s = ANY(events)
    ), event AS (
        INSERT INTO {Event._meta.db_table} (id, type, data, created_at)
        SELECT %(event_id)s, %(event_type)s, {data}, statement_timestamp()
        WHERE EXISTS (SELECT FROM endpoints){guard}
        RETURNING id, created_at
    ), deliveries AS (
        INSERT INTO {Delivery._meta.db_table}
            (event_id, endpoint_id, status, attempts, created_at, next_attempt_at, give_up_at)
        SELECT event.id, endpoints.id, 'pending', 0, event.created_at, event.created_at,
               event.created_at + %(event_retry_for)s * interval '1 second'
        FROM event, endpoints
    )"""  # noqa: S608 (table names from the models; every value is a parameter)


def event_params(type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The parameters of ``fan_out()`` for an event. Raises ValueError for an unknown type."""
    if type not in EventType.values:
        raise ValueError(f"unknown event type {type!r}")
    return {
        "event_id": uuid.uuid4(),
        "event_type": type,
        "event_data": json.dumps(data),
        "event_retry_for": settings.WEBHOOK_RETRY_FOR,
    }


_RECORD = f"WITH {fan_out()} SELECT 1"


class NotInTransaction(RuntimeError):
    """record() was called outside ``transaction.atomic()``: the event would not be part of
    the change's transaction."""


def record(type: str, data: dict[str, Any]) -> None:
    """Record an event of ``type`` (one of ``EventType``) with ``data`` (a JSON object: the ids
    involved, ``post_id``, ``comment_id``, ``user_id`` as they apply) for every active endpoint
    subscribed to that type.

    Must run inside the transaction of the change (``transaction.atomic()`` on the default
    database): raises ``NotInTransaction`` otherwise, and ``ValueError`` for an unknown type.
    Costs one statement, which writes nothing when no endpoint wants the type. A hot path can
    put its change and the event in one statement instead: ``fan_out(after=...)``.
    """
    params = event_params(type, data)
    connection = connections[router.db_for_write(Event)]
    if not connection.in_atomic_block:
        raise NotInTransaction("webhooks.events.record() must run inside the change's transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute(_RECORD, params)
