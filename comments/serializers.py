"""The `Comment` shape (docs/comments.md), the bodies that write one, and the list's query."""

from collections.abc import Callable
from functools import cache
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from accounts.serializers import UserSerializer
from api.fields import StrictCharField, StrictIntegerField
from api.pagination import PageQuerySerializer
from api.representation import representation_writer
from comments.models import Comment

CONTENT_MAX_LENGTH = 10_000
# Somewhere a character that is not whitespace (a search, as JSON Schema's pattern is too; NUL
# is refused anywhere in it by DRF's own validator, as in every text field).
NOT_ONLY_WHITESPACE = RegexValidator(r"\S", "This field may not be blank.", code="blank")


class CommentSerializer(serializers.ModelSerializer):
    """The contract's `Comment`. A deleted or hidden comment is a tombstone: `deleted` true, no
    content and no owner; the rest (its place in the thread, its replies) is kept."""

    content = serializers.CharField(read_only=True, help_text="Empty for a tombstone.")
    deleted = serializers.BooleanField(read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    owner = UserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "post_id",
            "parent_id",
            "content",
            "created_at",
            "edited_at",
            "deleted",
            "reply_count",
            "owner_id",
            "owner",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Comment) -> dict[str, Any]:
        """The declared fields' output through a writer made from them once per process
        (``representation_writer``, as for posts); a tombstone without content or owner."""
        data = _comment_writer()(instance)
        if instance.is_tombstone:
            data.update(content="", deleted=True, owner_id=None, owner=None)
        return data


@cache
def _comment_writer() -> Callable[[Any], dict[str, Any]]:
    return representation_writer(CommentSerializer())


class ContentField(StrictCharField):
    """A comment's content: 1 to 10,000 characters, stored as sent; blank or whitespace-only is
    refused (docs/comments.md)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", CONTENT_MAX_LENGTH)
        kwargs.setdefault("help_text", "1 to 10,000 characters, not only whitespace.")
        # Stated as the schema's pattern, so clients (and the fuzzer) see the rule.
        kwargs.setdefault("validators", [NOT_ONLY_WHITESPACE])
        super().__init__(**kwargs)


@extend_schema_serializer(component_name="CommentEdit")
class CommentEditSerializer(serializers.Serializer):
    """The body of ``PATCH /comments/{id}``: the new content (required). Its answer is the
    `Comment`."""

    content = ContentField()

    # A PATCH body here is whole (its one field is required): never partial, though DRF and
    # drf-spectacular make every PATCH serializer partial (which would make `content` optional).
    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass

    def to_representation(self, instance: Comment) -> dict[str, Any]:
        return CommentSerializer(instance).data


@extend_schema_serializer(component_name="CommentCreate")
class CommentCreateSerializer(serializers.Serializer):
    """The body of ``POST /posts/{id}/comments``: the content, and the comment it replies to."""

    content = ContentField()
    parent_id = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The comment this one replies to: a live comment of the same post. Omitted or null: "
        "a top-level comment.",
    )


class CommentListQuerySerializer(PageQuerySerializer):
    """The list's query: paging, and which comment's replies to list."""

    parent_id = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="List the direct replies of this comment instead of the top-level comments.",
    )
