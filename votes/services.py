"""The voting rule: one vote per user and post, decided by the database."""

from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction
from django.db.models import UniqueConstraint

from accounts.models import User
from posts.models import Post
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
    """The post was deleted while the vote was being written (the foreign key refused it)."""


class NotVisible(Exception):
    """No post with that id is visible to the user (``Post.objects.visible_to``): none exists,
    it is another user's draft, or staff have hidden it."""


class NoVote(Exception):
    """The user has no vote on this post to retract."""


def cast_vote(*, user: User, post_id: int) -> Vote:
    """Add the user's vote on the post and return it; the post's count goes up by one in the
    same transaction (votes/triggers.py).

    Raises ``NotVisible`` when the user cannot see the post (checked in the same statement), then
    ``AlreadyVoted`` when the user has voted on it already: the unique constraint refuses a
    second vote, even a concurrent one. Raises ``PostGone`` when the post was deleted meanwhile
    (any other integrity error: the foreign key refused the insert).
    """
    # The INSERT and its event (webhooks) are one statement, so one round trip and atomic on
    # their own; inside a caller's transaction a savepoint keeps that transaction usable after
    # a refusal.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    params = {
        **VISIBLE_PARAMS,
        "user": user.pk,
        "post": post_id,
        **events.event_params(EventType.VOTE_CREATED, {"post_id": post_id, "user_id": user.pk}),
    }
    try:
        with guard, connection.cursor() as cursor:
            cursor.execute(CAST, params)
            row = cursor.fetchone()
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == UNIQUE_VOTE:
            raise AlreadyVoted from exc
        raise PostGone from exc
    if row is None:
        raise NotVisible
    vote_id, created_at = row
    return Vote(pk=vote_id, user=user, post_id=post_id, created_at=created_at)


def retract_vote(*, user: User, post_id: int) -> None:
    """Remove the user's vote on the post; the post's count goes down by one in the same
    transaction (votes/triggers.py).

    Raises ``NotVisible`` when the user cannot see the post (checked in the same statement),
    ``NoVote`` when the user has no vote on it.
    """
    # One statement: the DELETE and its event (webhooks). QuerySet.delete() would wrap even a
    # single DELETE in BEGIN/COMMIT, two more round trips on the hottest write path.
    params = {
        **VISIBLE_PARAMS,
        "user": user.pk,
        "post": post_id,
        **events.event_params(EventType.VOTE_DELETED, {"post_id": post_id, "user_id": user.pk}),
    }
    with connection.cursor() as cursor:
        cursor.execute(RETRACT, params)
        visible, removed = cursor.fetchone()
    if not visible:
        raise NotVisible
    if removed == 0:
        raise NoVote


def _visible() -> str:
    """``Post.objects.visible_to(user).filter(pk=post)`` as SQL over the ``%(user)s`` and
    ``%(post)s`` parameters, compiled by the ORM once from the queryset (the rule stays stated
    once, in posts/querysets.py); its other values become ``%(visible_N)s`` parameters, in
    VISIBLE_PARAMS. Raises ValueError if the compiled SQL is not what this can rewrite."""
    stand_ins = {-(2**62): "user", -(2**62) - 1: "post"}
    user, post = stand_ins
    queryset = Post.objects.visible_to(User(pk=user)).filter(pk=post).order_by().values("pk")
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    parts = sql.split("%s")
    if (
        "%%" in sql
        or len(parts) != len(params) + 1
        or sorted(stand_ins.values()) != sorted(stand_ins[value] for value in params if value in stand_ins)
    ):
        raise ValueError(f"cannot name the parameters of {sql!r}")
    names = []
    for index, value in enumerate(params):
        if value in stand_ins:
            names.append(f"%({stand_ins[value]})s")
        else:
            VISIBLE_PARAMS[f"visible_{index}"] = value
            names.append(f"%(visible_{index})s")
    return "".join(part + name for part, name in zip(parts, [*names, ""], strict=True))


VISIBLE_PARAMS: dict[str, object] = {}
_VISIBLE = _visible()
_VOTES = connection.ops.quote_name(Vote._meta.db_table)
# The visibility check and the change, with its event (webhooks), in one statement: a post the
# user cannot see gets no vote (no row back) and keeps its votes (NotVisible, not NoVote).
CAST = (
    f"WITH vote AS (INSERT INTO {_VOTES} (user_id, post_id) SELECT %(user)s, %(post)s "  # noqa: S608
    f"WHERE EXISTS ({_VISIBLE}) RETURNING id, created_at), "
    f"{events.fan_out(after='vote')} SELECT id, created_at FROM vote"
)
RETRACT = (
    f"WITH visible AS (SELECT EXISTS ({_VISIBLE}) AS found), "  # noqa: S608
    f"vote AS (DELETE FROM {_VOTES} WHERE user_id = %(user)s AND post_id = %(post)s "
    f"AND (SELECT found FROM visible) RETURNING id), "
    f"{events.fan_out(after='vote')} SELECT (SELECT found FROM visible), count(*) FROM vote"
)
