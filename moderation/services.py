"""The moderation rules: one report per user and post, decided by the database; and the staff
actions, each kept in the record (ModerationAction) in the same transaction as its effect.

The queue row of a post (ReportedPost) is locked before its reports change, so a report made
while staff act on the post is either closed by the action or left open and counted, never lost.
"""

from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from moderation.models import Action, ModerationAction, Report, ReportedPost
from posts.models import Post
from posts.triggers import hidden_writable
from webhooks import events
from webhooks.event_types import EventType

UNIQUE_REPORT = "report_one_per_user_and_post"


class AlreadyReported(Exception):
    pass


class PostGone(Exception):
    """The post was deleted between the caller's check and the insert."""


def report_post(*, user: User, post_id: int, reason: str, note: str = "") -> Report:
    """Record the user's report and count it in the post's queue row.

    Raises AlreadyReported for a second report of the post by the user (the unique constraint
    decides, concurrent ones included) and PostGone if the post no longer exists.
    """
    try:
        with transaction.atomic():
            report = Report.objects.create(post_id=post_id, reporter=user, reason=reason, note=note)
            events.record(
                EventType.REPORT_CREATED,
                {"report_id": report.pk, "post_id": post_id, "user_id": user.pk, "reason": reason},
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO moderation_reportedpost AS q (post_id, open_reports, first_reported_at, "
                    "last_reported_at) VALUES (%s, 1, %s, %s) ON CONFLICT (post_id) DO UPDATE SET "
                    "open_reports = q.open_reports + 1, "
                    "first_reported_at = COALESCE(q.first_reported_at, EXCLUDED.first_reported_at), "
                    "last_reported_at = GREATEST(q.last_reported_at, EXCLUDED.last_reported_at)",
                    [post_id, report.created_at, report.created_at],
                )
            return report
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) == UNIQUE_REPORT:
            raise AlreadyReported from exc
        raise PostGone from exc


def _close_reports(post_id: int) -> int:
    """Resolve the post's open reports and empty its queue row; how many were closed. The
    caller's transaction holds the row lock taken here until it commits."""
    entry = ReportedPost.objects.select_for_update().filter(post_id=post_id).first()
    if entry is None:
        return 0
    closed = Report.objects.filter(post_id=post_id, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    ReportedPost.objects.filter(post_id=post_id).update(open_reports=0, first_reported_at=None)
    return closed


def _subject(post: Post) -> str:
    return f"post {post.pk} “{post.title[:200]}” by {post.owner.email}"


def _record(
    *, moderator: User, action: str, post: Post, reason: str = "", closed: int = 0
) -> ModerationAction:
    # Every staff action goes through here, so each is an event in the action's transaction.
    events.record(
        EventType.MODERATION_ACTION,
        {
            "action": action,
            "reason": reason,
            "post_id": post.pk,
            "user_id": post.owner_id,
            "moderator_id": moderator.pk,
        },
    )
    return ModerationAction.objects.create(
        action=action,
        moderator=moderator,
        post=post,
        author=post.owner,
        subject=_subject(post),
        reason=reason,
        reports_closed=closed,
    )


def _posts(posts: Iterable[Post] | QuerySet[Post]) -> list[Post]:
    ids = [post.pk for post in posts]
    return list(Post.objects.select_related("owner").filter(pk__in=ids).order_by("pk"))


def hide(*, moderator: User, posts: Iterable[Post], reason: str) -> int:
    """Hide the posts (404 for everyone on every route) and close their open reports; the
    posts themselves, their votes included, are left exactly as they were. Posts already hidden
    are skipped. Returns how many were hidden. Raises ValueError without a reason."""
    if not reason.strip():
        raise ValueError("a reason is required to hide a post")
    done = 0
    with hidden_writable():
        for post in _posts(posts):
            closed = _close_reports(post.pk)
            if not Post.objects.filter(pk=post.pk, hidden=False).update(hidden=True):
                continue
            _record(moderator=moderator, action=Action.HIDE, post=post, reason=reason.strip(), closed=closed)
            done += 1
    return done


def restore(*, moderator: User, posts: Iterable[Post], reason: str = "") -> int:
    """Bring hidden posts back as they were. Returns how many were hidden before."""
    done = 0
    with hidden_writable():
        for post in _posts(posts):
            if Post.objects.filter(pk=post.pk, hidden=True).update(hidden=False):
                _record(moderator=moderator, action=Action.RESTORE, post=post, reason=reason.strip())
                done += 1
    return done


def dismiss(*, moderator: User, posts: Iterable[Post], reason: str = "") -> int:
    """Close the posts' open reports and leave the posts as they are. Returns how many posts
    had open reports."""
    done = 0
    with transaction.atomic():
        for post in _posts(posts):
            closed = _close_reports(post.pk)
            if closed:
                _record(
                    moderator=moderator,
                    action=Action.DISMISS,
                    post=post,
                    reason=reason.strip(),
                    closed=closed,
                )
                done += 1
    return done


def deactivate_authors(*, moderator: User, posts: Iterable[Post], reason: str = "") -> tuple[int, int]:
    """Deactivate the authors of the posts: from then on every access and refresh token of
    theirs is refused (401, api/authentication.py checks ``is_active`` on each request) and
    they cannot log in. Staff accounts are left alone (that is for a superuser, on the user's
    page). Saved one by one, so that signals on the user see the change. Returns (deactivated,
    skipped staff)."""
    deactivated, staff = 0, 0
    seen: set[int] = set()
    with transaction.atomic():
        for post in _posts(posts):
            author = post.owner
            if author.pk in seen:
                continue
            seen.add(author.pk)
            if author.is_staff or author.is_superuser:
                staff += 1
                continue
            if not author.is_active:
                continue
            author.is_active = False
            author.save(update_fields=["is_active"])
            _record(moderator=moderator, action=Action.DEACTIVATE, post=post, reason=reason.strip())
            deactivated += 1
    return deactivated, staff
