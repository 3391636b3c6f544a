"""The vote counter: ``Post.vote_total``, kept equal to the post's number of votes by triggers.

The triggers (PL/pgSQL, created by ``votes/migrations/0002_vote_counter.py``, whose SQL stays
frozen as migrations do) run in the transaction of the write that fires them, whoever writes:
the API, the admin, a cascade from a deleted post or user, raw SQL.

- ``vote_count`` (AFTER INSERT OR DELETE ON votes_vote, per row): +1 / -1 on the post.
- ``vote_count_moved`` (AFTER UPDATE OF post_id ON votes_vote): -1 on the old post, +1 on the new.
- ``vote_count_truncate`` (AFTER TRUNCATE ON votes_vote): every count back to 0.
- ``post_vote_total_guard`` (BEFORE INSERT OR UPDATE OF vote_total ON posts_post), the guard.

The guard's rule: **writes to posts_post.vote_total outside a vote trigger are ignored.** A new
post starts at 0 whatever the INSERT says, and an UPDATE keeps the old count unless it comes
from a vote trigger (trigger depth 2). So a data fix such as ``UPDATE posts_post SET vote_total
= 7`` "succeeds" and changes nothing; to correct counts, call ``recount()``.

Bulk loaders (``manage.py seed``, ``manage.py import_course_db``) would make the triggers update
a post once per vote; instead they write inside ``suspended()`` and then ``recount()`` (or write
the counts themselves while the guard is off).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from django.db import DatabaseError, connection
from django.db.transaction import TransactionManagementError

from posts.models import Post
from votes.models import Vote

VOTE_COUNT = "vote_count"
VOTE_COUNT_MOVED = "vote_count_moved"
VOTE_COUNT_TRUNCATE = "vote_count_truncate"
GUARD = "post_vote_total_guard"
# Trigger names by the table they are on: Vote's table, then Post's.
VOTE_TRIGGERS = (VOTE_COUNT, VOTE_COUNT_MOVED, VOTE_COUNT_TRUNCATE)
POST_TRIGGERS = (GUARD,)


def triggers() -> dict[str, tuple[str, ...]]:
    """The counter's trigger names by the table they are on: ``{db_table: (name, ...)}``."""
    return {Vote._meta.db_table: VOTE_TRIGGERS, Post._meta.db_table: POST_TRIGGERS}


@contextmanager
def suspended() -> Iterator[None]:
    """Turn the counter's triggers (and the guard) off for the body of the ``with``.

    Must run inside the caller's transaction (``transaction.atomic()``), or it raises Django's
    ``TransactionManagementError``: ``ALTER TABLE ... DISABLE TRIGGER`` is transactional, so no
    other session ever sees the triggers off, and a failure rolls the change back with the rest.
    ALTER TABLE takes an ACCESS EXCLUSIVE lock on both tables until the transaction ends, and
    needs their owner's rights: this is for bulk loaders, not for a live database's requests.

    ALTER TABLE refuses a table with foreign-key checks still queued for commit, so this sets
    ``SET CONSTRAINTS ALL IMMEDIATE`` for the rest of the caller's transaction: deferred checks
    run now, and later ones at the end of each statement.

    Inside, vote writes do not change any count, and writes to ``vote_total`` are kept (the
    guard is off): the caller makes the counts exact before leaving, with ``recount()`` or by
    writing them. The triggers are back on when the body ends, also when it raises.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError("counter.suspended() must run inside transaction.atomic().")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, names in triggers().items():
            cursor.execute(_alter(table, names, "DISABLE"))
    try:
        yield
    except BaseException:
        # The caller may catch the error and go on in this transaction: then the triggers must
        # be back on. When the error has aborted the transaction, its rollback restores them.
        with suppress(DatabaseError):
            _enable()
        raise
    _enable()


def recount(post_ids: Iterable[int] | None = None) -> int:
    """Set ``vote_total`` to the number of votes of each post in ``post_ids`` (every post when
    None); return how many posts changed.

    Call it inside ``suspended()``, whose lock keeps every other writer of votes out until
    commit, so the counts stay exact. Raises ``TransactionManagementError`` outside it: the
    guard would silently ignore the writes (checked in ``pg_trigger``, one query).
    """
    if not _guard_disabled():
        raise TransactionManagementError("counter.recount() must run inside counter.suspended().")
    quote = connection.ops.quote_name
    posts, votes = quote(Post._meta.db_table), quote(Vote._meta.db_table)
    with connection.cursor() as cursor:
        if post_ids is None:
            # One pass over the votes, grouped; posts without votes count 0.
            cursor.execute(
                f"UPDATE {posts} p SET vote_total = c.n FROM ("  # noqa: S608 (table names from the models)
                f" SELECT p2.id, count(v.post_id) AS n FROM {posts} p2 LEFT JOIN {votes} v ON v.post_id = p2.id"
                " GROUP BY p2.id"
                ") c WHERE c.id = p.id AND p.vote_total <> c.n"
            )
        else:
            # The same, for the named posts only (ids sent as one array parameter).
            cursor.execute(
                f"UPDATE {posts} p SET vote_total = c.n FROM ("  # noqa: S608 (table names from the models)
                f" SELECT ids.id, count(v.post_id) AS n FROM (SELECT DISTINCT unnest(%s::bigint[]) AS id) ids"
                f" LEFT JOIN {votes} v ON v.post_id = ids.id GROUP BY ids.id"
                ") c WHERE c.id = p.id AND p.vote_total <> c.n",
                [list(post_ids)],
            )
        return int(cursor.rowcount)


def _enable() -> None:
    with connection.cursor() as cursor:
        for table, names in triggers().items():
            cursor.execute(_alter(table, names, "ENABLE"))


def _alter(table: str, names: tuple[str, ...], action: str) -> str:
    quote = connection.ops.quote_name
    return f"ALTER TABLE {quote(table)} " + ", ".join(f"{action} TRIGGER {quote(name)}" for name in names)


def _guard_disabled() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled = 'D' FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
            [connection.ops.quote_name(Post._meta.db_table), GUARD],
        )
        row = cursor.fetchone()
    return bool(row and row[0])
