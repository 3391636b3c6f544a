"""Sending deliveries: the worker takes a due one, POSTs it, and records the attempt.

A delivery is taken by moving its ``next_attempt_at`` a lease ahead (``FOR UPDATE SKIP LOCKED``,
so concurrent workers never take the same one); if the worker dies during the attempt, it is
due again when the lease ends. After an answer other than 2xx, or none, the next attempt comes
``WEBHOOK_RETRY_FIRST`` seconds later, each delay double the one before, at most
``WEBHOOK_RETRY_MAX_DELAY``, until ``give_up_at`` (``WEBHOOK_RETRY_FOR`` after the event).
"""

import json
import logging
import threading
import time
from datetime import UTC, timedelta

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from webhooks.addresses import RefusedAddress, check_url
from webhooks.models import Attempt, Delivery
from webhooks.signing import headers

logger = logging.getLogger(__name__)

HEAD_CHARS = 200  # of the answer, kept with each attempt

_CLAIM = f"""
UPDATE {Delivery._meta.db_table} SET next_attempt_at = now() + %s * interval '1 second'
WHERE id = (
    SELECT id FROM {Delivery._meta.db_table}
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED
)
RETURNING id
"""  # noqa: S608 (table names from the model)


_local = threading.local()


def _client() -> httpx.Client:
    """This thread's HTTP client, made once: a new one per attempt would build a TLS context
    (reading the CA bundle) every time. No redirects (a 3xx is not a 2xx), no proxies from the
    environment."""
    if getattr(_local, "client", None) is None:
        _local.client = httpx.Client(
            timeout=settings.WEBHOOK_TIMEOUT, follow_redirects=False, trust_env=False
        )
    return _local.client


def lease_seconds() -> float:
    """How long a taken delivery is left to its worker: three times the request's timeout."""
    return 3 * settings.WEBHOOK_TIMEOUT


def claim() -> Delivery | None:
    """Take the delivery due longest, with its event and endpoint, or None if none is due."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, [lease_seconds()])
        row = cursor.fetchone()
    if row is None:
        return None
    return Delivery.objects.select_related("event", "endpoint").get(pk=row[0])


def body_of(delivery: Delivery) -> str:
    """The JSON body: exactly ``type``, ``timestamp`` (ISO 8601, ``+00:00``) and ``data``; the
    same bytes on every attempt."""
    event = delivery.event
    timestamp = event.created_at.astimezone(UTC).isoformat()
    return json.dumps({"type": event.type, "timestamp": timestamp, "data": event.data}, separators=(",", ":"))


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (1, 2, ...)."""
    return min(settings.WEBHOOK_RETRY_FIRST * 2 ** (attempts - 1), settings.WEBHOOK_RETRY_MAX_DELAY)


def _keys(delivery: Delivery) -> list[str]:
    endpoint = delivery.endpoint
    keys = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and endpoint.previous_secret_until > timezone.now()
    ):
        keys.append(endpoint.previous_secret)
    return keys


def _post(delivery: Delivery) -> tuple[int | None, str, str]:
    """POST the delivery once: (status code or None, the answer's first characters, error)."""
    try:
        check_url(delivery.endpoint.url)
    except RefusedAddress as exc:
        return None, "", str(exc)[:HEAD_CHARS]
    body = body_of(delivery)
    request_headers = {
        "content-type": "application/json",
        "user-agent": "social-media-api-webhooks",
        **headers(webhook_id=delivery.event.webhook_id, body=body, keys=_keys(delivery)),
    }
    timeout = settings.WEBHOOK_TIMEOUT
    deadline = time.monotonic() + timeout
    try:
        with _client().stream(
            "POST", delivery.endpoint.url, content=body.encode(), headers=request_headers
        ) as answer:
            head = b""
            # Only the first bytes are read, and not past the deadline: a receiver trickling
            # its answer holds the worker no longer than the timeout.
            for chunk in answer.iter_raw():
                head += chunk
                if len(head) >= HEAD_CHARS or time.monotonic() > deadline:
                    break
            return answer.status_code, head.decode(errors="replace")[:HEAD_CHARS], ""
    except httpx.HTTPError as exc:
        return None, "", f"{type(exc).__name__}: {exc}"[:HEAD_CHARS]


def attempt(delivery: Delivery) -> Attempt:
    """POST the delivery once, record the attempt, and mark it delivered, due again later, or
    failed (past ``give_up_at``). Returns the attempt."""
    start = time.monotonic()
    status, head, error = _post(delivery)
    took = round((time.monotonic() - start) * 1000)
    now = timezone.now()
    with transaction.atomic():
        tried = Attempt.objects.create(
            delivery=delivery, status_code=status, response_head=head, error=error, duration_ms=took
        )
        attempts = delivery.attempts + 1
        if status is not None and 200 <= status < 300:
            changes = {"status": Delivery.Status.DELIVERED, "delivered_at": now}
        else:
            after = now + timedelta(seconds=retry_delay(attempts))
            if after > delivery.give_up_at:
                changes = {"status": Delivery.Status.FAILED}
            else:
                changes = {"next_attempt_at": after}
        # Only while still pending: a resend from the admin meanwhile is not undone.
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
            attempts=attempts, **changes
        )
    if status is None or not 200 <= status < 300:
        logger.info(
            "webhook attempt failed", extra={"delivery": delivery.pk, "status": status, "error": error}
        )
    return tried


def send_again(delivery_ids: list[int]) -> int:
    """Make the deliveries due now, with a new ``WEBHOOK_RETRY_FOR`` to succeed (the admin's
    "send again"); delivered and failed ones too. Returns how many."""
    now = timezone.now()
    return Delivery.objects.filter(pk__in=delivery_ids).update(
        status=Delivery.Status.PENDING,
        next_attempt_at=now,
        give_up_at=now + timedelta(seconds=settings.WEBHOOK_RETRY_FOR),
        delivered_at=None,
    )
