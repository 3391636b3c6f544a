"""The moderation rules for comments (docs/comments.md): one report per user and comment,
decided by the database; staff hide, restore and dismiss, and deactivate authors, each action
kept in the record (ModerationAction) in the same transaction as its effect.

A hidden comment is shown as a tombstone to everyone and cannot be edited or replied to; its
content is kept, so restoring brings it back as it was.
"""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from comments.models import Comment
from moderation.models import Action, CommentReport, ModerationAction

UNIQUE_REPORT = "report_one_per_user_and_comment"


class AlreadyReported(Exception):
    pass


class CommentGone(Exception):
    """The comment was deleted between the caller's check and the insert."""


def report_comment(*, user: User, comment_id: int, reason: str, note: str = "") -> CommentReport:
    """Record the user's report of the comment. Raises AlreadyReported for a second report by
    the same user (concurrent ones included), CommentGone if the comment no longer exists."""
    try:
        with transaction.atomic():
            return CommentReport.objects.create(
                comment_id=comment_id, reporter=user, reason=reason, note=note
            )
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == UNIQUE_REPORT:
            raise AlreadyReported from exc
        raise CommentGone from exc


def _comments(comments: Iterable[Comment]) -> list[Comment]:
    ids = [comment.pk for comment in comments]
    # Locked: a deletion or an edit racing the action waits for it.
    return list(Comment.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))


def _close_reports(comment: Comment) -> int:
    return CommentReport.objects.filter(comment=comment, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )


def _record(*, moderator: User, action: str, comment: Comment, reason: str = "", closed: int = 0) -> None:
    owner = comment.owner
    who = owner.email if owner is not None else "a deleted account"
    ModerationAction.objects.create(
        action=action,
        moderator=moderator,
        post_id=comment.post_id,
        comment=comment,
        author=owner,
        subject=f"comment {comment.pk} on post {comment.post_id} by {who}: “{comment.content[:200]}”",
        reason=reason.strip(),
        reports_closed=closed,
    )


def hide_comments(*, moderator: User, comments: Iterable[Comment], reason: str) -> int:
    """Hide the comments (tombstones to everyone) and close their open reports. Returns how many
    were hidden. Raises ValueError without a reason."""
    if not reason.strip():
        raise ValueError("a reason is required to hide a comment")
    done = 0
    with transaction.atomic():
        for comment in _comments(comments):
            if comment.hidden or comment.deleted:
                continue
            closed = _close_reports(comment)
            Comment.objects.filter(pk=comment.pk).update(hidden=True)
            _record(moderator=moderator, action=Action.HIDE, comment=comment, reason=reason, closed=closed)
            done += 1
    return done


def restore_comments(*, moderator: User, comments: Iterable[Comment], reason: str = "") -> int:
    """Bring hidden comments back as they were. Returns how many were hidden before."""
    done = 0
    with transaction.atomic():
        for comment in _comments(comments):
            if Comment.objects.filter(pk=comment.pk, hidden=True).update(hidden=False):
                _record(moderator=moderator, action=Action.RESTORE, comment=comment, reason=reason)
                done += 1
    return done


def dismiss_comments(*, moderator: User, comments: Iterable[Comment], reason: str = "") -> int:
    """Close the comments' open reports, leaving the comments as they are. Returns how many
    comments had open reports."""
    done = 0
    with transaction.atomic():
        for comment in _comments(comments):
            if closed := _close_reports(comment):
                _record(
                    moderator=moderator, action=Action.DISMISS, comment=comment, reason=reason, closed=closed
                )
                done += 1
    return done


def deactivate_comment_authors(
    *, moderator: User, comments: Iterable[Comment], reason: str = ""
) -> tuple[int, int]:
    """Deactivate the authors of the comments (their tokens stop working at once), leaving staff
    accounts alone. Returns (deactivated, skipped staff)."""
    deactivated, staff = 0, 0
    seen: set[int] = set()
    with transaction.atomic():
        for comment in Comment.objects.select_related("owner").filter(pk__in=[c.pk for c in comments]):
            author = comment.owner
            if author is None or author.pk in seen:
                continue
            seen.add(author.pk)
            if author.is_staff or author.is_superuser:
                staff += 1
                continue
            if not author.is_active:
                continue
            author.is_active = False
            author.save(update_fields=["is_active"])
            _record(moderator=moderator, action=Action.DEACTIVATE, comment=comment, reason=reason)
            deactivated += 1
    return deactivated, staff
