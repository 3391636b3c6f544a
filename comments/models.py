"""Comments under posts, threaded to any depth (docs/comments.md).

The database keeps the thread's rules (comments/triggers.py): each comment's ``reply_count``,
that a reply names a live comment of the same post, and tombstones, so they hold for every
writer (the API, the admin, a cascade from a deleted post or user) and under concurrency.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class CommentQuerySet(models.QuerySet["Comment"]):
    """``Comment.objects``: comments, with the visibility rule as a method."""

    def visible_to(self, user: Any) -> "CommentQuerySet":
        """The comments on posts the user can see (``Post.objects.visible_to``'s rule: published
        or their own, not hidden), each with its owner in the same query. Deleted and hidden
        comments are included: they are shown as tombstones."""
        return self.select_related("owner").filter(
            Q(post__published=True) | Q(post__owner=user.pk), post__hidden=False
        )


class Comment(models.Model):
    post = models.ForeignKey("posts.Post", on_delete=models.DB_CASCADE, related_name="comments")
    # A reply's parent; null for a top-level comment. The parent row outlives its replies (a
    # tombstone), so the cascade only acts when the whole post goes.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DB_CASCADE, related_name="replies", db_index=False
    )
    # Null once the comment is deleted (a tombstone) or its owner's account is gone.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DB_SET_NULL, related_name="comments"
    )
    content = models.TextField()
    created_at = models.DateTimeField(db_default=Now())
    edited_at = models.DateTimeField(null=True, blank=True)
    # Deleted by its owner (or its owner's account deleted) while it has replies: a tombstone,
    # gone once its last reply is (comments/triggers.py).
    deleted = models.BooleanField(default=False, db_default=False, editable=False)
    # Set by staff from the moderation queue: shown as a tombstone, content kept for a restore.
    hidden = models.BooleanField(default=False, db_default=False, editable=False)
    # The number of direct replies, tombstones included, kept by database triggers in the same
    # transaction as each reply's insert or delete; other writes to it are ignored.
    reply_count = models.BigIntegerField(db_default=0, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [
            # A post's top-level comments, oldest first with ties by id: pages read off this index.
            models.Index("post", "created_at", "id", name="comment_thread", condition=Q(parent__isnull=True)),
            # A comment's replies in the same order (and the parent key's cascade).
            models.Index("parent", "created_at", "id", name="comment_replies"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="comment_not_own_parent")
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on post {self.post_id}"

    @property
    def is_tombstone(self) -> bool:
        """Shown without content or owner: deleted with replies left, or hidden by staff."""
        return self.deleted or self.hidden
