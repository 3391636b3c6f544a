import time
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction

from course_import.exporter import ExportResult, run_export
from course_import.source import one_line
from course_import.target import ExportRefused, connect_target


class Command(BaseCommand):
    help = (
        "Export users, posts and votes into a database in the original course API's schema (FastAPI),"
        " so that the original can serve them: an empty database, or the original's empty tables"
        " (--replace: tables holding rows). All or nothing; this database is only read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "target_url", metavar="TARGET_DATABASE_URL", help="e.g. postgresql://user:pass@host:5432/fastapi"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the users, posts and votes the original's tables hold and write these instead",
        )

    def handle(self, *args: Any, target_url: str, replace: bool, verbosity: int, **options: Any) -> None:
        self.started = time.monotonic()
        progress = self._progress if verbosity >= 1 else _quiet
        try:
            target = connect_target(target_url)
        except ExportRefused as exc:
            raise CommandError(str(exc)) from exc
        try:
            # The target commits when its block ends without an exception, after every row is in;
            # this database's snapshot is read-only.
            with target, transaction.atomic():
                result = run_export(target, replace=replace, progress=progress)
        except ExportRefused as exc:
            raise CommandError(f"{exc} Nothing was written.") from exc
        except (psycopg.Error, DatabaseError) as exc:
            raise CommandError(f"The export failed and nothing was written: {one_line(exc)}") from exc
        self._report(result, time.monotonic() - self.started)

    def _progress(self, message: str) -> None:
        self.stderr.write(f"{time.monotonic() - self.started:6.1f} s  {message}")

    def _report(self, result: ExportResult, seconds: float) -> None:
        write = self.stdout.write
        write(f"Target: {result.target}.")
        for name, rows in result.written.items():
            write(f"{name}: {rows:,} exported")
        write(f"hidden posts: {result.hidden_posts:,} exported as drafts")
        write(f"staff: {result.staff:,} exported as ordinary users")
        for kind, rows in result.not_exported:
            write(f"{kind}: {rows:,} not exported")
        if result.without_password:
            write(
                f"users without a password the original can check: {len(result.without_password):,}"
                " (deactivated, without a password, or not logged in here since bcrypt became the"
                " preferred hasher); they cannot log in to the original until they log in here (or reset"
                " their password here) and the export is run again:"
            )
            for user_id, email in result.without_password:
                write(f"  user {user_id}: {email}")
        write(self.style.SUCCESS(f"Export committed in {seconds:.1f} s."))


def _quiet(message: str) -> None:
    pass
