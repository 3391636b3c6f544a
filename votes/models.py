from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class Vote(models.Model):
    """One user's vote on one post; the database allows at most one per pair."""

    # The unique constraint's index (user first) serves lookups by user; the post's own
    # index serves counting a post's votes.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="votes", db_index=False
    )
    post = models.ForeignKey("posts.Post", on_delete=models.DB_CASCADE, related_name="votes")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="vote_one_per_user_and_post"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.post_id}"
