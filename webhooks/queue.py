"""The outbox's figures, for the admin and for /metrics."""

from dataclasses import dataclass

from django.db.models import Count, Min
from django.utils import timezone

from webhooks.models import Delivery


@dataclass(frozen=True)
class QueueStats:
    """``depth``: deliveries not yet delivered nor given up; ``oldest_age``: seconds since the
    event of the oldest of them was recorded (0.0 when there is none)."""

    depth: int
    oldest_age: float


def queue_stats() -> QueueStats:
    """The webhook queue's depth and the age of its oldest undelivered event, in one query on
    the partial index of pending deliveries."""
    figures = Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(
        depth=Count("pk"), oldest=Min("created_at")
    )
    oldest = figures["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return QueueStats(depth=figures["depth"], oldest_age=max(age, 0.0))


def deliveries_by_status() -> dict[str, int]:
    """How many deliveries are delivered, failed (given up) and pending, every status named
    (0 when it has none), in one grouped count."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    for row in Delivery.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return counts
