"""manage.py worker: the background worker, the one process besides the API.

It runs Django's tasks (``django.tasks``, stored in PostgreSQL by django-tasks-db: the
password-reset mail) with django-tasks-db's own worker loop, and beside it
``WEBHOOK_DELIVERY_THREADS`` threads that send due webhook deliveries (webhooks/delivery.py).
Stop it with SIGTERM or Ctrl-C: the task being run and the attempts in flight finish first.
"""

import logging
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from webhooks import delivery

logger = logging.getLogger(__name__)

# A task still marked running this long after it started was cut off (its worker died: the
# mail it sends gives up after its 10 s SMTP timeout); it is made ready again.
TASK_LEASE = timedelta(minutes=2)


def requeue_cut_off_tasks() -> int:
    """Make ready again the tasks whose worker died while running them; how many."""
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=timezone.now() - TASK_LEASE
    ).update(status=TaskResultStatus.READY, started_at=None)


def requeue_until(stop: threading.Event, every: float = 30) -> None:
    """Every ``every`` seconds until ``stop`` is set, make cut-off tasks ready again: another
    worker may have died while this one goes on."""
    try:
        while not stop.wait(every):
            close_old_connections()
            try:
                if requeued := requeue_cut_off_tasks():
                    logger.warning("made %d cut-off task(s) ready again", requeued)
            except Exception:
                logger.exception("requeueing cut-off tasks failed")
    finally:
        connection.close()


def deliver_until(stop: threading.Event, interval: float) -> None:
    """Send due deliveries until ``stop`` is set, waiting ``interval`` seconds when none is due.
    Errors are logged and the loop goes on (the delivery is due again when its lease ends)."""
    try:
        while not stop.is_set():
            # The connection is kept from one delivery to the next (one per attempt would cost
            # a connection's set-up each time); only a broken one is dropped.
            try:
                taken = delivery.claim()
                if taken is not None:
                    delivery.attempt(taken)
                    continue
            except Exception:
                logger.exception("webhook delivery failed")
                connection.close()
            stop.wait(interval)
    finally:
        connection.close()


class Command(BaseCommand):
    help = "Run the background worker: Django's tasks (the reset mail) and webhook deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
        parser.add_argument(
            "--threads", type=int, default=settings.WEBHOOK_DELIVERY_THREADS, help="webhook delivery threads"
        )

    def handle(self, *args: Any, interval: float, threads: int, **options: Any) -> None:
        if requeued := requeue_cut_off_tasks():
            logger.warning("made %d cut-off task(s) ready again", requeued)
        stop = threading.Event()
        senders = [
            threading.Thread(target=deliver_until, args=(stop, interval), name=f"webhooks-{n}", daemon=True)
            for n in range(threads)
        ]
        senders.append(threading.Thread(target=requeue_until, args=(stop,), name="requeue", daemon=True))
        for sender in senders:
            sender.start()
        try:
            call_command(
                "db_worker", interval=interval, reload=False, startup_delay=False, queue_name="*", verbosity=0
            )
        finally:
            stop.set()
            for sender in senders:
                sender.join(settings.WEBHOOK_TIMEOUT + 5)
