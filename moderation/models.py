"""Reports of posts and comments by users, the queues staff work from, and the record of what
staff did.

docs/api.md, "Reporting a post", and docs/comments.md. Whether a post or a comment is hidden is
its own state (``Post.hidden``, ``Comment.hidden``).
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from comments.models import Comment


class Reason(models.TextChoices):
    SPAM = "spam", "spam"
    ABUSE = "abuse", "abuse"
    OFF_TOPIC = "off-topic", "off-topic"
    OTHER = "other", "other"


class Report(models.Model):
    """One user's report of one post; the database allows at most one per pair, so a second
    one, even a concurrent one, is refused (the 409). ``resolved_at`` is set when staff act on
    the post's open reports (hide or dismiss); resolved reports stay, so the user cannot report
    the same post again."""

    # The unique constraint's index (post first) serves a post's reports.
    post = models.ForeignKey(
        "posts.Post", on_delete=models.DB_CASCADE, related_name="reports", db_index=False
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="reports"
    )
    reason = models.CharField(max_length=16, choices=Reason)
    note = models.TextField(blank=True, db_default="")
    created_at = models.DateTimeField(db_default=Now())
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="report_one_per_user_and_post"),
            models.CheckConstraint(condition=models.Q(reason__in=Reason.values), name="report_reason_known"),
        ]

    def __str__(self) -> str:
        return f"{self.reporter_id} reported {self.post_id}: {self.reason}"


class CommentReport(models.Model):
    """One user's report of one comment; at most one per pair (the database decides, as for
    posts). ``resolved_at`` is set when staff hide the comment or dismiss its reports."""

    comment = models.ForeignKey(
        "comments.Comment", on_delete=models.DB_CASCADE, related_name="reports", db_index=False
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="comment_reports"
    )
    reason = models.CharField(max_length=16, choices=Reason)
    note = models.TextField(blank=True, db_default="")
    created_at = models.DateTimeField(db_default=Now())
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="report_one_per_user_and_comment"),
            models.CheckConstraint(
                condition=models.Q(reason__in=Reason.values), name="comment_report_reason_known"
            ),
        ]
        indexes = [
            # The queue: comments with open reports, oldest report first.
            models.Index(
                "created_at", "comment", name="comment_report_open", condition=models.Q(resolved_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"{self.reporter_id} reported comment {self.comment_id}: {self.reason}"


class ReportedComment(Comment):
    """Comments, as a proxy the Moderators group holds permissions on (migration 0005); the admin
    lists reported comments in the one queue (QueueEntry)."""

    class Meta:
        proxy = True
        verbose_name = "reported comment"

    def __str__(self) -> str:
        return f"comment {self.pk}"


class ReportedPost(models.Model):
    """The queue: one row for each post ever reported, with the number of its open reports and
    when the oldest of them was made. Kept by moderation/services.py in the same transaction as
    each report and each action, and by a database trigger when a report is deleted (with its
    reporter's account; migrations/0001_initial.py), so the admin's queue reads one page of an
    index, however many posts and reports there are."""

    post = models.OneToOneField(
        "posts.Post", primary_key=True, on_delete=models.DB_CASCADE, related_name="moderation"
    )
    open_reports = models.PositiveIntegerField(default=0)
    first_reported_at = models.DateTimeField(null=True, blank=True)  # of the oldest open report
    last_reported_at = models.DateTimeField()

    class Meta:
        verbose_name = "reported post"
        permissions = [("moderate", "Can hide, restore and dismiss reported posts, and deactivate authors")]
        indexes = [
            # The queue's two orders, as the admin sorts (it adds the primary key, descending).
            # Rows without open reports sort last in both, so the open queue reads the first
            # entries, and "ever reported" the whole index, in order.
            models.Index(
                models.F("first_reported_at").asc(), models.F("post").desc(), name="queue_oldest_first"
            ),
            models.Index(
                models.F("open_reports").desc(),
                models.F("first_reported_at").asc(),
                models.F("post").desc(),
                name="queue_most_reported_first",
            ),
        ]

    def __str__(self) -> str:
        return f"post {self.post_id}: {self.open_reports} open report(s)"


class QueueEntry(models.Model):
    """The one moderation queue: a row for each post ever reported and each comment ever
    reported, read from a database view (migrations/0006_queue_entry.py) over ``ReportedPost``
    and the comments' reports. ``id`` is ``"post-<id>"`` or ``"comment-<id>"``; ``post`` is the
    post itself or the comment's post, ``parent`` the comment a reply answers. Read-only: the
    admin's actions go to moderation/services.py or moderation/comment_services.py."""

    id = models.CharField(max_length=40, primary_key=True)
    kind = models.CharField(max_length=8)  # "post" or "comment"
    post = models.ForeignKey("posts.Post", on_delete=models.DO_NOTHING, related_name="+")
    comment = models.ForeignKey("comments.Comment", null=True, on_delete=models.DO_NOTHING, related_name="+")
    parent = models.ForeignKey("comments.Comment", null=True, on_delete=models.DO_NOTHING, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    open_reports = models.PositiveIntegerField()
    first_reported_at = models.DateTimeField(null=True)  # of the oldest open report
    hidden = models.BooleanField()

    class Meta:
        managed = False
        db_table = "moderation_queue_entry"
        verbose_name = "moderation queue entry"
        verbose_name_plural = "moderation queue entries"

    def __str__(self) -> str:
        return f"{self.kind} {self.comment_id or self.post_id}"


class Action(models.TextChoices):
    HIDE = "hide", "hide"
    RESTORE = "restore", "restore"
    DISMISS = "dismiss", "dismiss reports"
    DEACTIVATE = "deactivate", "deactivate author"


class ModerationAction(models.Model):
    """One moderation action: who, when, what, and why. Never changed or deleted from the admin,
    and not tied to the reports it closed; when the post or a user goes, the row stays, with
    ``subject`` saying what it was about."""

    action = models.CharField(max_length=16, choices=Action)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DB_SET_NULL,
        related_name="moderation_actions",
    )
    post = models.ForeignKey(
        "posts.Post", null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="moderation_actions"
    )
    # Set when the action was on a comment (``post`` is then the comment's post).
    comment = models.ForeignKey(
        "comments.Comment",
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="moderation_actions",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=400)
    reason = models.TextField(blank=True)
    reports_closed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            models.Index(models.F("created_at").desc(), models.F("id").desc(), name="action_newest_first")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject}"
