"""The "comments" section of GET /users/me/export (data_export/views.py): the caller's comments,
hidden ones included (they wrote them). Deleted comments are not theirs any more (a tombstone
has no owner), so they are not in it."""

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework import serializers

from accounts.models import User
from comments.models import Comment

BATCH_ROWS = 2000
FIELDS = ("id", "post_id", "parent_id", "content", "created_at", "edited_at", "hidden")


def rows_of(user: User) -> Iterable[Mapping[str, Any]]:
    """The user's comments, oldest id first, read in batches."""
    return Comment.objects.filter(owner=user).order_by("id").values(*FIELDS).iterator(BATCH_ROWS)


class ExportCommentSerializer(serializers.Serializer):
    """One of the caller's comments (for the schema)."""

    id = serializers.IntegerField()
    post_id = serializers.IntegerField()
    parent_id = serializers.IntegerField(allow_null=True)
    content = serializers.CharField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    hidden = serializers.BooleanField(help_text="Hidden by staff: others see a tombstone.")
