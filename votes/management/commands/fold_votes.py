"""``manage.py fold_votes``: move pending vote deltas into their posts' ``vote_total``."""

from typing import Any

from django.core.management.base import BaseCommand

from votes import counter


class Command(BaseCommand):
    help = (
        "Add each post's pending vote deltas to its vote_total (the sort=top rank). Counts as the "
        "API shows them do not change. Safe to run at any time, e.g. every minute from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Fold once and say how many posts changed."""
        self.stdout.write(f"{counter.fold()} posts folded")
