"""Who follows whom (CONTRACT.md §7.5)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now


class Follow(models.Model):
    """`follower` follows `followee`, since `created_at`. One row per pair (the database's
    unique constraint decides between concurrent follows); a user never follows themselves.
    Deleting either user deletes the row (ON DELETE CASCADE); deactivating one keeps it, so a
    reactivated user is listed again in their place."""

    # No index of their own: each column leads one of the indexes below.
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="following_set", db_index=False
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="follower_set", db_index=False
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")), name="follow_not_self"
            ),
        ]
        indexes = [
            # GET /users/{id}/following and /followers: the most recent follow first, ties by the
            # listed user's id; pages read straight off these.
            models.Index(
                "follower",
                models.F("created_at").desc(),
                models.F("followee").desc(),
                name="follow_following_newest",
            ),
            models.Index(
                "followee",
                models.F("created_at").desc(),
                models.F("follower").desc(),
                name="follow_followers_newest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class FolloweeSet(models.Model):
    """The ids of everyone `user` follows, sorted ascending, and how many they are: the feed's
    test of "does the reader follow this post's author" is a binary search of this array
    (follows/feed.py). Written only by the follows' triggers (follows/triggers.py), in the
    transaction of each follow and unfollow, so it never disagrees with the Follow rows."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, primary_key=True, related_name="+"
    )
    followees = ArrayField(models.BigIntegerField(), default=list)
    count = models.IntegerField(default=0)  # the length of `followees`, written with it

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.count}"
