from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class IdempotencyKey(models.Model):
    """A caller's `Idempotency-Key` and the first answer to the request that carried it
    (IETF draft-ietf-httpapi-idempotency-key-header; docs/api.md, "HTTP semantics").

    One row per (caller, key), enforced by the database, so of concurrent requests with one key
    exactly one runs. `status` and `body` stay empty while that request is being answered."""

    # "user:<id>" for an authenticated caller, "address:<client address>" for a signup.
    caller = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    # HMAC-SHA256 (keyed with SECRET_KEY) of the method, the path and the JSON body: a signup's
    # password is in that body, so a plain hash would be a guessable one.
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_default=Now())
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.BinaryField(null=True, blank=True)  # the exact bytes first answered

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_once_per_caller")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created_at")]

    def __str__(self) -> str:
        return f"{self.caller} {self.key}"


class ExpensiveReadWindow(models.Model):
    """How many expensive reads a user has had in the current window of EXPENSIVE_READ_RATE, one
    row per user and slot of their reads in progress (api/read_budget.py): the slot's read holds
    its row, so no two reads wait on one row. A row of an earlier window is counted from 1 again
    when its slot is next used; rows are never more than the user's slots, and one (slot
    ``read_budget.SEARCH_ROW``) that the time of their searches of the primary is charged to."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    slot = models.PositiveIntegerField()
    # The window's number: seconds since the epoch // the rate's period.
    window_start = models.BigIntegerField()
    reads = models.PositiveIntegerField()
    # Until when the user's searches and expensive reads on this slot have paid for their time
    # at EXPENSIVE_READ_SHARE (api/read_budget.py); NULL: none charged yet.
    busy_until = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "slot"], name="expensive_read_window_once")]

    def __str__(self) -> str:
        return f"user {self.user_id} slot {self.slot}: {self.reads} in window {self.window_start}"
