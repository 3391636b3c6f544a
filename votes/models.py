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


class VoteDelta(models.Model):
    """A vote (+1) or a retracted vote (-1) not yet added to its post's ``vote_total``: written by
    the counter's trigger when another transaction holds the post's row (votes/triggers.py), so
    voters on one post do not queue behind each other. A post's count is its ``vote_total`` plus
    the sum of its deltas; the next vote that gets the post's row, or ``counter.fold()``, moves
    them into ``vote_total`` in one transaction."""

    post = models.ForeignKey("posts.Post", on_delete=models.DB_CASCADE, related_name="vote_deltas")
    delta = models.SmallIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(delta__in=[-1, 1]), name="vote_delta_is_one")
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} on {self.post_id}"
