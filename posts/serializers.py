from collections.abc import Callable
from functools import cache
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

import posts.models
from accounts.serializers import UserSerializer
from api.fields import BIGINT_MAX, StrictBooleanField, StrictCharField, StrictIntegerField
from api.paging import CursorField, check_ordering
from api.representation import representation_writer
from api.validation import Validator
from posts.models import Post
from posts.queries import ORDERINGS

# No title limit of our own: the original had none, so every post it held can be written back
# unchanged; the request size limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is the only bound.
CONTENT_MAX_LENGTH = 100_000
PAGE_MAX = 100
PAGE_DEFAULT = 10


# Its request components: PostRequest, PatchedPostRequest; the example is what Swagger's "Try it
# out" fills in.
@extend_schema_serializer(
    component_name="Post",
    examples=[
        OpenApiExample(
            "A post",
            value={"title": "My first post", "content": "Hello from the API.", "published": True},
            request_only=True,
        )
    ],
)
class PostWriteSerializer(serializers.ModelSerializer):
    # The body of a create, PUT or PATCH (docs/api.md, "Posts"); `published` is true when
    # omitted. Its answer (``data``) is the flat `Post`. The docstring is the schema's description
    # of PostRequest and PatchedPostRequest.
    """The contract's flat `Post`, with its owner nested. Server-owned fields are read-only."""

    title = StrictCharField(allow_blank=True)
    content = StrictCharField(max_length=CONTENT_MAX_LENGTH, allow_blank=True)
    published = StrictBooleanField(
        default=True,
        help_text='Also read as the original read it: 1/0 and "true"/"false", "yes"/"no", "on"/"off" in any case.',
    )
    owner = UserSerializer(read_only=True)

    class Meta:
        model = Post
        fields = ["title", "content", "published", "id", "created_at", "owner_id", "owner"]
        read_only_fields = ["id", "created_at", "owner_id", "owner"]


#: ``PostWriteSerializer(data=...)``'s validated data, without building its fields per request.
validated_post = Validator(PostWriteSerializer)


def post_representation(post: "posts.models.Post") -> dict[str, Any]:
    """``PostWriteSerializer(post).data`` (the flat ``Post`` a write answers), through a writer
    made from its declared fields once per process (``representation_writer``)."""
    return _post_write()(post)


@cache
def _post_write() -> Callable[[Any], dict[str, Any]]:
    return representation_writer(PostWriteSerializer())


class PostSerializer(PostWriteSerializer):
    # The flat `Post` as answered: every field is always there, so drf-spectacular requires each
    # of them in the `Post` component (`published` has no default in an answer).
    """The contract's flat `Post`, with its owner nested. Server-owned fields are read-only."""

    published = StrictBooleanField()


class PostOutSerializer(serializers.Serializer):
    """The contract's `PostOut`: ``{"Post": {...}, "votes": n}`` for list and get-one."""

    Post = PostSerializer(source="*", read_only=True)
    votes = serializers.IntegerField(source="vote_count", read_only=True)

    def to_representation(self, instance: "posts.models.Post") -> dict[str, Any]:
        """The declared fields' output, through a writer made from them once per process
        (``representation_writer``): a page's posts skip DRF's walk of the nested fields."""
        return _post_out_writer()(instance)


@cache
def _post_out_writer() -> Callable[[Any], dict[str, Any]]:
    # The class's declared fields, bound as DRF binds them.
    return representation_writer(PostOutSerializer())


class PostListQuerySerializer(serializers.Serializer):
    limit = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=PAGE_DEFAULT)
    skip = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=0)
    # As long as a title may be: bounded by the request line's limit only.
    search = StrictCharField(allow_blank=True, default="")
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
