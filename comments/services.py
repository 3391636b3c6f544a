"""Writing comments: each write is one statement whose rules the database keeps
(comments/triggers.py), turned into the contract's answers here."""

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from accounts.models import User
from comments import triggers
from comments.models import Comment
from webhooks import events
from webhooks.event_types import EventType

PARENT_LIVE = triggers.PARENT_NOT_LIVE
POST_EXISTS = triggers.POST_MISSING


class ParentNotLive(Exception):
    """The parent is missing, on another post, deleted or hidden (the API's 422)."""


class PostGone(Exception):
    """The post was deleted between the caller's check and the insert (the API's 404)."""


class CommentGone(Exception):
    """The comment was deleted or hidden between the caller's check and the write (404)."""


def create_comment(*, owner: User, post_id: int, content: str, parent_id: int | None) -> Comment:
    """Insert the comment (one INSERT ... RETURNING), and record ``comment.created`` for
    webhooks in its transaction. Raises ParentNotLive when `parent_id` does
    not name a live comment of the post (decided by the database, concurrent deletions
    included), PostGone when the post no longer exists."""
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                owner=owner, post_id=post_id, parent_id=parent_id, content=content
            )
            events.record(
                EventType.COMMENT_CREATED,
                {"comment_id": comment.pk, "post_id": post_id, "parent_id": parent_id, "user_id": owner.pk},
            )
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint == PARENT_LIVE:
            raise ParentNotLive from exc
        if constraint == POST_EXISTS:
            raise PostGone from exc
        raise
    comment.owner = owner
    return comment


def edit_comment(comment: Comment, *, content: str) -> Comment:
    """Replace the content of a live comment and set ``edited_at`` (the database's clock).
    Raises CommentGone when it was deleted or hidden meanwhile."""
    changed = Comment.objects.filter(pk=comment.pk, deleted=False, hidden=False).update(
        content=content, edited_at=Now()
    )
    if not changed:
        raise CommentGone
    comment.refresh_from_db(fields=["content", "edited_at", "reply_count"])
    return comment


def delete_comment(comment: Comment) -> None:
    """Delete a live comment: it becomes a tombstone, which the database removes at once when
    it has no replies; ``comment.deleted`` is recorded for webhooks in the same transaction. Raises CommentGone when it was deleted or hidden meanwhile."""
    data = {"comment_id": comment.pk, "post_id": comment.post_id, "user_id": comment.owner_id}
    with transaction.atomic():
        if not Comment.objects.filter(pk=comment.pk, deleted=False, hidden=False).update(deleted=True):
            raise CommentGone
        events.record(EventType.COMMENT_DELETED, data)
