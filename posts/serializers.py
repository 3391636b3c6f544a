from datetime import datetime, tzinfo
from typing import TypedDict

from django.utils import timezone
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

import posts.models
from accounts.serializers import UserSerializer
from api.fields import BIGINT_MAX, StrictBooleanField, StrictCharField, StrictIntegerField
from api.paging import CursorField, check_ordering
from posts.models import Post
from posts.queries import ORDERINGS

TITLE_MAX_LENGTH = 300
CONTENT_MAX_LENGTH = 100_000
PAGE_MAX = 100
PAGE_DEFAULT = 10


@extend_schema_serializer(component_name="Post")  # its request components: PostRequest, PatchedPostRequest
class PostWriteSerializer(serializers.ModelSerializer):
    # The body of a create, PUT or PATCH (docs/api.md, "Posts"); `published` is true when
    # omitted. Its answer (``data``) is the flat `Post`. The docstring is the schema's description
    # of PostRequest and PatchedPostRequest.
    """The contract's flat `Post`, with its owner nested. Server-owned fields are read-only."""

    title = StrictCharField(max_length=TITLE_MAX_LENGTH, allow_blank=True)
    content = StrictCharField(max_length=CONTENT_MAX_LENGTH, allow_blank=True)
    published = StrictBooleanField(default=True)
    owner = UserSerializer(read_only=True)

    class Meta:
        model = Post
        fields = ["title", "content", "published", "id", "created_at", "owner_id", "owner"]
        read_only_fields = ["id", "created_at", "owner_id", "owner"]


class PostSerializer(PostWriteSerializer):
    # The flat `Post` as answered: every field is always there, so drf-spectacular requires each
    # of them in the `Post` component (`published` has no default in an answer).
    """The contract's flat `Post`, with its owner nested. Server-owned fields are read-only."""

    published = StrictBooleanField()


class OwnerOut(TypedDict):
    """The contract's `User`, as nested in a post: datetimes are ISO 8601 text (+00:00)."""

    id: int
    email: str
    created_at: str


class PostFields(TypedDict):
    """The contract's flat `Post` (PostSerializer's output), with its owner nested."""

    title: str
    content: str
    published: bool
    id: int
    created_at: str
    owner_id: int
    owner: OwnerOut


class PostOut(TypedDict):
    """The contract's `PostOut`, as PostOutSerializer builds it by hand."""

    Post: PostFields
    votes: int


class PostOutSerializer(serializers.Serializer):
    """The contract's `PostOut`: ``{"Post": {...}, "votes": n}`` for list and get-one."""

    Post = PostSerializer(source="*", read_only=True)
    votes = serializers.IntegerField(source="vote_total", read_only=True)

    # A TypedDict is a dict, but mypy keeps it apart from DRF's declared dict[str, Any].
    def to_representation(self, instance: "posts.models.Post") -> PostOut:  # type: ignore[override]
        # The hottest path of the API: built directly, about four to five times faster than
        # walking the nested serializers' fields for each post of a page (bench/post_out.py:
        # 5.0-5.5 times at 10 posts, 3.9-4.8 at 100). The declared fields above still describe
        # it (the schema); a test holds the two to the same output.
        owner = instance.owner
        # As DRF's DateTimeField writes them: in the current time zone, settings' format.
        zone = timezone.get_current_timezone()
        return {
            "Post": {
                "title": instance.title,
                "content": instance.content,
                "published": instance.published,
                "id": instance.id,
                "created_at": _datetime_text(instance.created_at, zone),
                "owner_id": instance.owner_id,
                "owner": {
                    "id": owner.id,
                    "email": owner.email,
                    "created_at": _datetime_text(owner.date_joined, zone),
                },
            },
            "votes": instance.vote_total,
        }


_DATETIME = serializers.DateTimeField()


def _datetime_text(value: datetime, zone: tzinfo) -> str:
    """What DRF's DateTimeField gives for `value` (DATETIME_FORMAT, in `zone`, the current
    time zone), without its per-call lookups, for an aware datetime (as every one read from
    the database is); anything else goes through the field."""
    output_format = api_settings.DATETIME_FORMAT
    if value.tzinfo is None or not isinstance(output_format, str) or output_format.lower() == ISO_8601:
        return _DATETIME.to_representation(value)
    return value.astimezone(zone).strftime(output_format)


class PostListQuerySerializer(serializers.Serializer):
    limit = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=PAGE_DEFAULT)
    skip = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=0)
    search = StrictCharField(max_length=TITLE_MAX_LENGTH, allow_blank=True, default="")
    sort = serializers.ChoiceField(
        choices=["new", "top"],
        default="new",
        help_text="new: newest first; top: most votes first, then newest.",
    )
    cursor = CursorField(model=Post, orderings=list(ORDERINGS.values()), required=False, default=None)

    def validate_limit(self, value: int) -> int:
        return min(value, PAGE_MAX)

    def validate(self, attrs: dict) -> dict:
        check_ordering(attrs["cursor"], ORDERINGS[attrs["sort"]])
        return attrs
