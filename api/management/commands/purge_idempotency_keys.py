from typing import Any

from django.core.management.base import BaseCommand
from django.db.models.functions import Now

from api.idempotency import TTL
from api.models import IdempotencyKey


class Command(BaseCommand):
    help = (
        "Delete the Idempotency-Key records older than 24 hours (a retry after that runs as a new "
        "request anyway). Run it now and then, e.g. daily."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted, _ = IdempotencyKey.objects.filter(created_at__lt=Now() - TTL).delete()
        self.stdout.write(f"Deleted {deleted} idempotency key(s) older than {TTL}.")
