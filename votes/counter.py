"""The vote counter: ``Post.vote_total`` plus the post's pending ``VoteDelta`` rows, kept equal
to the post's number of votes by the triggers in votes/triggers.py, in the transaction of each
vote write. ``fold()`` moves pending deltas into ``vote_total`` (the ``sort=top`` rank).

The guard's rule: **writes to posts_post.vote_total outside a vote trigger are ignored.** So a
data fix such as ``UPDATE posts_post SET vote_total = 7`` "succeeds" and changes nothing; to
correct counts, call ``recount()`` inside ``suspended()``.

Bulk loaders (``manage.py seed``, ``manage.py import_course_db``) would make the triggers update
a post once per vote; instead they write inside ``suspended()`` and then ``recount()`` (or write
the counts themselves while the guard stands aside).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError

from posts.models import Post
from votes.models import Vote, VoteDelta
from votes.triggers import SUSPENDED


@contextmanager
def suspended() -> Iterator[None]:
    """Make the counter's triggers (and the guard) stand aside for the body of the ``with``.

    Must run inside the caller's transaction (``transaction.atomic()``), or it raises Django's
    ``TransactionManagementError``. It sets a transaction-local setting the triggers read
    (votes/triggers.py), so only this transaction is affected: other sessions' votes go on being
    counted, and no table is locked (``ALTER TABLE ... DISABLE TRIGGER`` would hold ACCESS
    EXCLUSIVE on both tables, stopping every read, until commit). A rollback undoes it.

    Inside, this transaction's vote writes change no count, and its writes to ``vote_total``
    are kept: the caller makes the counts exact before leaving, with ``recount()`` or by writing
    them. The triggers are back for the rest of the transaction when the body ends, also when
    it raises.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError("counter.suspended() must run inside transaction.atomic().")
    _set_suspended("on")
    try:
        yield
    except BaseException:
        # The caller may catch the error and go on in this transaction: then the triggers must
        # be back. When the error has aborted the transaction, its rollback restores them.
        with suppress(DatabaseError):
            _set_suspended("off")
        raise
    _set_suspended("off")


def recount(post_ids: Iterable[int] | None = None) -> int:
    """Set ``vote_total`` to the number of votes of each post in ``post_ids`` (every post when
    None); return how many posts changed.

    Call it inside ``suspended()``; it raises ``TransactionManagementError`` outside, where the
    guard would silently ignore the writes. It first takes a SHARE lock on the votes table:
    other sessions' vote writes wait until this transaction ends (a vote counted by its trigger
    between the count and its write would be lost), while reads go on.
    """
    if not _is_suspended():
        raise TransactionManagementError("counter.recount() must run inside counter.suspended().")
    quote = connection.ops.quote_name
    posts, votes = quote(Post._meta.db_table), quote(Vote._meta.db_table)
    deltas = quote(VoteDelta._meta.db_table)
    ids = None if post_ids is None else list(post_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {votes} IN SHARE MODE")
        # No vote write can run now, so no delta is being added: the counts below replace them.
        if ids is None:
            cursor.execute(f"DELETE FROM {deltas}")  # noqa: S608 (a table name from the model)
            # One pass over the votes, grouped; posts without votes count 0.
            cursor.execute(
                f"UPDATE {posts} p SET vote_total = c.n FROM ("  # noqa: S608 (table names from the models)
                f" SELECT p2.id, count(v.post_id) AS n FROM {posts} p2 LEFT JOIN {votes} v ON v.post_id = p2.id"
                " GROUP BY p2.id"
                ") c WHERE c.id = p.id AND p.vote_total <> c.n"
            )
        else:
            # The same, for the named posts only (ids sent as one array parameter).
            cursor.execute(f"DELETE FROM {deltas} WHERE post_id = ANY(%s::bigint[])", [ids])  # noqa: S608
            cursor.execute(
                f"UPDATE {posts} p SET vote_total = c.n FROM ("  # noqa: S608 (table names from the models)
                f" SELECT ids.id, count(v.post_id) AS n FROM (SELECT DISTINCT unnest(%s::bigint[]) AS id) ids"
                f" LEFT JOIN {votes} v ON v.post_id = ids.id GROUP BY ids.id"
                ") c WHERE c.id = p.id AND p.vote_total <> c.n",
                [ids],
            )
        return int(cursor.rowcount)


def fold() -> int:
    """Move every pending ``VoteDelta`` into its post's ``vote_total``; return the posts changed.

    Counts as readers see them do not change (a reader sums both, in one snapshot); the
    ``sort=top`` rank, which reads ``vote_total`` alone through its index, catches up. Posts whose
    row a voter holds are skipped (that voter folds them). Runs in a transaction of its own; a
    periodic job (``manage.py fold_votes``) calls it so that a burst's last deltas do not wait for
    the post's next vote.
    """
    quote = connection.ops.quote_name
    posts, deltas = quote(Post._meta.db_table), quote(VoteDelta._meta.db_table)
    with transaction.atomic(), suspended(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH locked AS (SELECT id FROM {posts} WHERE id IN (SELECT post_id FROM {deltas})"  # noqa: S608 (table names from the models)
            " FOR NO KEY UPDATE SKIP LOCKED),"
            f" folded AS (DELETE FROM {deltas} d USING locked WHERE d.post_id = locked.id RETURNING d.post_id, d.delta)"
            f" UPDATE {posts} p SET vote_total = p.vote_total + s.n"
            " FROM (SELECT post_id, sum(delta) AS n FROM folded GROUP BY post_id) s WHERE p.id = s.post_id"
        )
        return int(cursor.rowcount)


def _set_suspended(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [SUSPENDED, value])


def _is_suspended() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true) = 'on'", [SUSPENDED])
        row = cursor.fetchone()
    return bool(row and row[0])
