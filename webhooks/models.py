"""Webhook endpoints, the outbox of events, and each endpoint's deliveries and their attempts.

CONTRACT.md §7.6. An event and its deliveries are written in the transaction of the change
they describe (webhooks/events.py); the worker sends each delivery until its receiver answers
2xx (webhooks/delivery.py).
"""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from webhooks.event_types import EventType


class Endpoint(models.Model):
    """A receiver staff registered: where to POST, which event types it wants, and the secret
    its deliveries are signed with. After a rotation the previous secret signs too (a second
    signature in ``webhook-signature``) until ``previous_secret_until``, so a receiver still on
    the old secret verifies the deliveries in flight meanwhile."""

    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=32, choices=EventType.choices))
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    # Kept as is: signing needs the key itself. Never shown again after it is made.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    """One change, as its receivers see it: ``webhook-id`` is ``msg_`` + ``id`` (the same on
    every attempt and for every endpoint)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    data = models.JSONField()
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.id.hex}"


class Delivery(models.Model):
    """One event for one endpoint: pending until a 2xx (delivered) or until ``give_up_at``
    (failed). ``next_attempt_at`` is when the worker may take it next; a worker that takes it
    moves it a lease ahead, so a worker that dies mid-attempt leaves it due again."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"

    event = models.ForeignKey(Event, on_delete=models.DB_CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.DB_CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status, db_default=Status.PENDING)
    attempts = models.PositiveIntegerField(db_default=0)
    created_at = models.DateTimeField(db_default=Now())  # the event's time
    next_attempt_at = models.DateTimeField(db_default=Now())
    give_up_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_one_per_event_and_endpoint")
        ]
        indexes = [
            # The worker's claim and the queue's figures read only the pending rows.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}: {self.status}"


class Attempt(models.Model):
    """One POST of a delivery: when, the answer's status code (none if no answer came) and its
    first bytes, or the error."""

    delivery = models.ForeignKey(Delivery, on_delete=models.DB_CASCADE, related_name="attempt_set")
    attempted_at = models.DateTimeField(db_default=Now())
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_head = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["delivery", "-attempted_at"], name="attempt_delivery_newest")]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.attempted_at}: {self.status_code or self.error}"
