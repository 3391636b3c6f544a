"""The voting rule: one vote per user and post, decided by the database."""

from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction

from accounts.models import User
from votes.models import Vote

UNIQUE_VOTE = "vote_one_per_user_and_post"


class AlreadyVoted(Exception):
    pass


class PostGone(Exception):
    """The post was deleted between the caller's check and the insert."""


class NoVote(Exception):
    pass


def cast_vote(*, user: User, post_id: int) -> Vote:
    """Add the user's vote. The unique constraint refuses a second one, even a concurrent one."""
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
    # One statement. QuerySet.delete() would wrap even a single DELETE in BEGIN/COMMIT,
    # two more round trips on the hottest write path.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM votes_vote WHERE user_id = %s AND post_id = %s", [user.pk, post_id])
        if cursor.rowcount == 0:
            raise NoVote
