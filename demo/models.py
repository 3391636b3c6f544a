"""What `manage.py seed` must put back: the indexes and constraints it dropped for a load."""

from django.db import models
from django.db.models.functions import Now


class PendingRebuild(models.Model):
    """One index or constraint `manage.py seed` dropped before a parallel load, and the statement
    that rebuilds it as it was (read from the catalog: ``pg_get_indexdef``,
    ``pg_get_constraintdef``). Written in the transaction that drops it and deleted in the one
    that rebuilds it, so a load that dies midway (killed, out of memory) leaves its rows: the next
    ``seed`` rebuilds them first. Rebuilt in id order: indexes and unique constraints, then
    foreign keys."""

    table = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    statement = models.TextField()
    is_foreign_key = models.BooleanField()
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.name} on {self.table}"
