"""Export this backend's users, posts and votes into a database in the original course API's
schema (the mirror of course_import/importer.py), so a deployment can go back to the original.

This database is read in one REPEATABLE READ, READ ONLY transaction (one snapshot, nothing
written here); the rows are streamed with COPY into the target (course_import/target.py) inside
one transaction there, committed by the caller only when everything went in.

What the original's schema can hold goes out as it is here: ids, emails, password hashes (the
preferred hasher's, accounts/hashers.py, is the original's bcrypt), titles, contents, owners,
drafts and creation times. What it cannot hold is counted (``NOT_EXPORTED``), never dropped
silently: hidden posts go out as drafts, staff as ordinary users, users whose hash the original
cannot verify with a hash no password matches, and the kinds of rows it has no table for are
counted by kind.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import bcrypt
import psycopg
from django.apps import apps
from django.db import connection
from django.db.models import Q, QuerySet
from psycopg import sql

from accounts.models import User
from accounts.sessions import still_valid
from course_import.importer import BCRYPT_HASH
from course_import.source import Progress, pipe
from course_import.tables import TARGETS
from course_import.target import finish_target, prepare_target
from posts.models import Post

# A hash the original's passlib verifies: the preferred hasher's, "bcrypt$" and passlib's hash.
# An active user's only: a deactivated one could log in to the original, which has no such state.
USABLE_REGEX = r"^bcrypt\$" + BCRYPT_HASH[1:]
USABLE_HASH = Q(is_active=True, password__regex=USABLE_REGEX)


@dataclass(frozen=True)
class NotExported:
    """A kind of rows the original's schema has no place for: its name in the report, its model
    (``app_label.ModelName``; a model whose app is not installed is left out of the report), and
    which of its rows count (all by default)."""

    kind: str
    model: str
    rows: Callable[[QuerySet], QuerySet] = lambda rows: rows


# One line each in the command's report: "<kind>: N not exported". A new app whose rows the
# original cannot hold adds its line here; course_import/tests/test_export_course_db.py fails
# while any model of the project is in neither this list nor EXPORTED nor NOT_USER_DATA.
NOT_EXPORTED = [
    NotExported("comments", "comments.Comment"),
    NotExported("follows", "follows.Follow"),
    NotExported("reports", "moderation.Report"),
    NotExported("comment reports", "moderation.CommentReport"),
    NotExported("moderation record", "moderation.ModerationAction"),
    NotExported("refresh sessions", "token_blacklist.OutstandingToken", still_valid),
]
EXPORTED = {"accounts.User", "posts.Post", "votes.Vote"}
# Kept for the service's own working, derived from other rows or expiring: nobody's data.
NOT_USER_DATA = {
    "moderation.ReportedPost",  # the queue, derived from the reports
    "moderation.ReportedComment",  # the comments' queue: a view of comments (a proxy model)
    "moderation.QueueEntry",  # the one queue: a database view of the two above
    "api.IdempotencyKey",  # replayable answers, kept for a day
    "api.ExpensiveReadWindow",  # how many expensive reads a user had in this minute
    "votes.VoteDelta",  # pending parts of the posts' vote counts, derived from the votes
    "follows.FolloweeSet",  # each user's followees as one array, derived from the follows
    "token_blacklist.BlacklistedToken",  # which refresh tokens are spent (the sessions say it)
    "webhooks.Endpoint",  # staff's receivers
    "webhooks.Event",  # the outbox: ids of changes, kept while their deliveries are sent
    "webhooks.Delivery",
    "webhooks.Attempt",
    "django_tasks_database.DBTaskResult",  # the background tasks' queue
    "demo.PendingRebuild",  # manage.py seed's note of the indexes it has yet to rebuild
}

# Per table: what is read here (COPY ... TO STDOUT) and where it goes there (COPY ... FROM STDIN).
COPIES = {
    "users": (
        "SELECT id, email, CASE WHEN is_active AND password ~ {usable} THEN substr(password, 8)"
        " ELSE {unusable} END, date_joined"
        " FROM {users} ORDER BY id",
        "COPY users (id, email, password, created_at) FROM STDIN",
    ),
    "posts": (
        "SELECT id, title, content, owner_id, published AND NOT hidden, created_at FROM {posts} ORDER BY id",
        "COPY posts (id, title, content, owner_id, published, created_at) FROM STDIN",
    ),
    "votes": ("SELECT user_id, post_id FROM {votes}", "COPY votes (user_id, post_id) FROM STDIN"),
}


@dataclass
class ExportResult:
    """What an export wrote (rows per table), what the target was made (``target``), and what
    it changed or left out: hidden posts written as drafts, staff written as ordinary users, the
    (id, email) of the users written without a usable password, and per kind of ``NOT_EXPORTED``
    whose app is installed, the rows left out."""

    target: str = ""
    written: dict[str, int] = field(default_factory=dict)
    hidden_posts: int = 0
    staff: int = 0
    without_password: list[tuple[int, str]] = field(default_factory=list)
    not_exported: list[tuple[str, int]] = field(default_factory=list)


def run_export(target: psycopg.Connection, *, replace: bool, progress: Progress) -> ExportResult:
    """Write this database's users, posts and votes into the target, in the target's open
    transaction, which the caller commits (or rolls back on an exception).

    Call inside ``transaction.atomic()`` on the default database, before any other query in it
    (the snapshot's isolation level is set by the first statement). Raises ``ExportRefused``
    (course_import/target.py) for a target that is not an empty database or the original's
    schema, or holds rows without ``replace``; psycopg's and Django's database errors pass
    through.
    """
    result = ExportResult()
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        created, result.target = prepare_target(target, replace=replace)
        count_left_out(result)
        # A hash of a random secret, forgotten: the original refuses every password for these
        # users, as this backend does (they log in after a password reset here and a new export).
        unusable = bcrypt.hashpw(secrets.token_bytes(32).hex().encode(), bcrypt.gensalt(12)).decode()
        totals = {name: model._default_manager.count() for name, model in TARGETS.items()}
        names = {name: sql.Identifier(model._meta.db_table) for name, model in TARGETS.items()}
        for name, (select, copy_in) in COPIES.items():
            query = sql.SQL(select).format(
                **names, usable=sql.Literal(USABLE_REGEX), unusable=sql.Literal(unusable)
            )
            with (
                cursor.copy(sql.SQL("COPY ({}) TO STDOUT").format(query)) as reader,
                target.cursor().copy(copy_in) as writer,
            ):
                result.written[name] = pipe(reader, writer, name, totals[name], progress, verb="written")
        progress("adding the constraints and moving the id sequences")
        finish_target(target, created=created)
    return result


def count_left_out(result: ExportResult) -> None:
    """Fill in what the export changes or leaves out (``ExportResult``'s last four fields)."""
    result.hidden_posts = Post.objects.filter(hidden=True).count()
    result.staff = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True)).count()
    result.without_password = list(
        User.objects.exclude(USABLE_HASH).order_by("id").values_list("id", "email")
    )
    for kind in NOT_EXPORTED:
        try:
            model = apps.get_model(kind.model)
        except LookupError:  # its app is not installed: nothing of that kind is held here
            continue
        result.not_exported.append((kind.kind, kind.rows(model._default_manager.all()).count()))
