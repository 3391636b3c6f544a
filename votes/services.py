"""The voting rule: one vote per user and post, decided by the database."""

from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction
from django.db.models import UniqueConstraint

from accounts.models import User
from votes.models import Vote

# The name of the unique constraint that refuses a second vote, as the model declares it.
UNIQUE_VOTE = next(
    c.name
    for c in Vote._meta.constraints
    if isinstance(c, UniqueConstraint) and set(c.fields) == {"user", "post"}
)


class AlreadyVoted(Exception):
    """The user has voted on this post already (the database's unique constraint said so)."""


class PostGone(Exception):
    """The post was deleted between the caller's check and the insert."""


class NoVote(Exception):
    """The user has no vote on this post to retract."""


def cast_vote(*, user: User, post_id: int) -> Vote:
    """Add the user's vote on the post and return it; the post's count goes up by one in the
    same transaction (votes/triggers.py).

    Raises ``AlreadyVoted`` when the user has voted on it already: the unique constraint refuses
    a second vote, even a concurrent one. Raises ``PostGone`` when no post has that id (any other
    integrity error: the foreign key refused the insert).
    """
    # In autocommit mode the INSERT is its own transaction and a refusal leaves nothing to
    # roll back; inside a caller's transaction a savepoint keeps that transaction usable.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with guard:
            return Vote.objects.create(user=user, post_id=post_id)
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == UNIQUE_VOTE:
            raise AlreadyVoted from exc
        raise PostGone from exc


def retract_vote(*, user: User, post_id: int) -> None:
    """Remove the user's vote on the post; the post's count goes down by one in the same
    transaction (votes/triggers.py).

    Raises ``NoVote`` when the user has no vote on that post (or no such post exists).
    """
    # One statement. QuerySet.delete() would wrap even a single DELETE in BEGIN/COMMIT,
    # two more round trips on the hottest write path.
    with connection.cursor() as cursor:
        cursor.execute(RETRACT, [user.pk, post_id])
        if cursor.rowcount == 0:
            raise NoVote


RETRACT = f"DELETE FROM {connection.ops.quote_name(Vote._meta.db_table)} WHERE user_id = %s AND post_id = %s"  # noqa: S608
