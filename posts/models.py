from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from posts.querysets import PostQuerySet


class Post(models.Model):
    # No length limit in the table, as in the original's; the API enforces its own maxima.
    title = models.CharField()
    content = models.TextField()
    published = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(db_default=Now())
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="posts")
    # The number of votes, kept by database triggers in the same transaction as each vote's
    # insert, delete or move (votes/triggers.py). Writes from anywhere else are ignored by the
    # database, so a stale value saved with a post cannot stick.
    vote_total = models.BigIntegerField(db_default=0, editable=False)
    # Set by staff from the moderation queue (moderation/admin.py): a hidden post is 404 on every
    # route, for its owner too, and is left exactly as it was, votes included, to be restored.
    # Only those actions change it: a database trigger keeps it for any other writer (posts/triggers.py).
    hidden = models.BooleanField(default=False, db_default=False, editable=False)

    objects = PostQuerySet.as_manager()
    # Set on the posts that Post.objects.visible_to() / with_vote_count() read: their number of votes.
    vote_count: int

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The list's order, newest first with ties by id: pages read straight off this index.
            models.Index(models.F("created_at").desc(), models.F("id").desc(), name="post_newest_first"),
            # sort=top: the most voted first, then the list's order.
            models.Index(
                models.F("vote_total").desc(),
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="post_most_voted_first",
            ),
            # GET /feed: each author's newest published, not hidden posts (follows.feed).
            models.Index(
                "owner",
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="post_feed",
                condition=models.Q(published=True, hidden=False),
            ),
            # GET /feed's walk for readers of many authors (follows.feed): the published, not hidden
            # posts newest first, each with its author, read without visiting the table.
            models.Index(
                fields=["-created_at", "-id"],
                include=["owner"],
                name="post_feed_walk",
                condition=models.Q(published=True, hidden=False),
            ),
            # The few hidden posts, for the moderation queue's "Hidden" list.
            models.Index(fields=["id"], name="post_hidden", condition=models.Q(hidden=True)),
        ]

    def __str__(self) -> str:
        return self.title
