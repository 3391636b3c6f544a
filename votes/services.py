"""The voting rule: one vote per user and post, decided by the database."""

from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction
from django.db.models import UniqueConstraint

from accounts.models import User
from votes.models import Vote
from webhooks import events
from webhooks.event_types import EventType

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
    # The INSERT and its event (webhooks) are one statement, so one round trip and atomic on
    # their own; inside a caller's transaction a savepoint keeps that transaction usable after
    # a refusal.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    params = {
        "user": user.pk,
        "post": post_id,
        **events.event_params(EventType.VOTE_CREATED, {"post_id": post_id, "user_id": user.pk}),
    }
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(CAST, params)
            vote_id, created_at = cursor.fetchone()
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == UNIQUE_VOTE:
            raise AlreadyVoted from exc
        raise PostGone from exc
    return Vote(pk=vote_id, user=user, post_id=post_id, created_at=created_at)


def retract_vote(*, user: User, post_id: int) -> None:
    """Remove the user's vote on the post; the post's count goes down by one in the same
    transaction (votes/triggers.py).

    Raises ``NoVote`` when the user has no vote on that post (or no such post exists).
    """
    # One statement: the DELETE and its event (webhooks). QuerySet.delete() would wrap even a
    # single DELETE in BEGIN/COMMIT, two more round trips on the hottest write path.
    params = {
        "user": user.pk,
        "post": post_id,
        **events.event_params(EventType.VOTE_DELETED, {"post_id": post_id, "user_id": user.pk}),
    }
    with connection.cursor() as cursor:
        cursor.execute(RETRACT, params)
        if cursor.fetchone()[0] == 0:
            raise NoVote


_VOTES = connection.ops.quote_name(Vote._meta.db_table)
CAST = (
    f"WITH vote AS (INSERT INTO {_VOTES} (user_id, post_id) VALUES (%(user)s, %(post)s) "  # noqa: S608
    f"RETURNING id, created_at), {events.fan_out(after='vote')} SELECT id, created_at FROM vote"
)
RETRACT = (
    f"WITH vote AS (DELETE FROM {_VOTES} WHERE user_id = %(user)s AND post_id = %(post)s RETURNING id), "  # noqa: S608
    f"{events.fan_out(after='vote')} SELECT count(*) FROM vote"
)
