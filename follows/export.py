"""The caller's follows, both ways, for GET /users/me/export (data_export.views.SECTIONS)."""

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework import serializers

from accounts.models import User
from follows.models import Follow

BATCH_ROWS = 2000


def following(user: User) -> Iterable[Mapping[str, Any]]:
    """The users `user` follows: ``{"user_id", "created_at"}`` (when the follow was made), the
    oldest follow first. Deactivated users' follows too: they are the caller's rows."""
    rows = Follow.objects.filter(follower=user).order_by("created_at", "followee_id")
    return ({"user_id": r["followee_id"], "created_at": r["created_at"]} for r in
            rows.values("followee_id", "created_at").iterator(BATCH_ROWS))  # fmt: skip


def followers(user: User) -> Iterable[Mapping[str, Any]]:
    """The users following `user`, in the same shape and order."""
    rows = Follow.objects.filter(followee=user).order_by("created_at", "follower_id")
    return ({"user_id": r["follower_id"], "created_at": r["created_at"]} for r in
            rows.values("follower_id", "created_at").iterator(BATCH_ROWS))  # fmt: skip


class ExportFollowSerializer(serializers.Serializer):
    """One follow in the export (for the schema): the other user's id, and since when."""

    user_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
