import time
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction

from course_import.importer import run_import
from course_import.result import ImportResult
from course_import.source import ImportRefused, connect_source, one_line


class Command(BaseCommand):
    help = (
        "Import users, posts and votes from the database of a running deployment of the original "
        "course API (FastAPI). The source is only read. All or nothing; a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source_url", metavar="SOURCE_DATABASE_URL", help="e.g. postgresql://user:pass@host:5432/fastapi"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what the import would do and write nothing"
        )

    def handle(self, *args: Any, source_url: str, dry_run: bool, verbosity: int, **options: Any) -> None:
        self.started = time.monotonic()
        show_progress = verbosity >= 1
        try:
            source = connect_source(source_url)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        try:
            with source, transaction.atomic():
                result = run_import(
                    source, dry_run=dry_run, progress=self._progress if show_progress else _quiet
                )
                if dry_run:
                    transaction.set_rollback(True)
        except ImportRefused as exc:
            raise CommandError(f"{exc} Nothing was written.") from exc
        except (psycopg.Error, DatabaseError) as exc:
            raise CommandError(f"The import failed and nothing was written: {one_line(exc)}") from exc
        self._report(result, time.monotonic() - self.started)

    def _progress(self, message: str) -> None:
        self.stderr.write(f"{time.monotonic() - self.started:6.1f} s  {message}")

    def _report(self, result: ImportResult, seconds: float) -> None:
        write = self.stdout.write
        write(f"Source at alembic revision {result.revision}.")
        verb = "would import" if result.dry_run else "imported"
        write(f"{'':8}{'in source':>12}{verb:>14}{'already here':>14}{'conflicting':>13}")
        for name in ("users", "posts", "votes"):
            c = getattr(result, name)
            write(f"{name:8}{c.source:>12,}{c.imported:>14,}{c.already_here:>14,}{c.conflicting:>13,}")
        if result.conflicting_emails:
            write(
                "Not imported: these emails differ only by case, so neither user is imported, nor their "
                "posts, their votes or the votes on their posts. Resolve them in the source and run again:"
            )
            for user_id, email in result.conflicting_emails:
                write(f"  user {user_id}: {email}")
        if result.unusable_passwords:
            write(
                f"{result.unusable_passwords:,} users have a password that is not a bcrypt hash; "
                "they cannot log in until an administrator sets a new one (manage.py changepassword EMAIL)."
            )
        if not any(getattr(result, name).imported for name in ("users", "posts", "votes")):
            write(f"Nothing new to import: everything in the source is already here ({seconds:.1f} s).")
        elif result.dry_run:
            write(self.style.WARNING(f"Dry run: nothing was written ({seconds:.1f} s)."))
        else:
            write(self.style.SUCCESS(f"Import committed in {seconds:.1f} s."))


def _quiet(message: str) -> None:
    pass
