from rest_framework import serializers

from accounts.serializers import UserSerializer
from config.fields import BIGINT_MAX, StrictBooleanField, StrictCharField, StrictIntegerField
from posts.models import Post

TITLE_MAX_LENGTH = 300
CONTENT_MAX_LENGTH = 100_000
PAGE_MAX = 100


class PostSerializer(serializers.ModelSerializer):
    """The contract's flat `Post`, with its owner nested. Server-owned fields are read-only."""

    title = StrictCharField(max_length=TITLE_MAX_LENGTH, allow_blank=True)
    content = StrictCharField(max_length=CONTENT_MAX_LENGTH, allow_blank=True)
    published = StrictBooleanField(default=True)
    owner = UserSerializer(read_only=True)

    class Meta:
        model = Post
        fields = ["title", "content", "published", "id", "created_at", "owner_id", "owner"]
        read_only_fields = ["id", "created_at", "owner_id", "owner"]


class PostOutSerializer(serializers.Serializer):
    """The contract's `PostOut`: ``{"Post": {...}, "votes": n}`` for list and get-one."""

    Post = PostSerializer(source="*", read_only=True)
    votes = serializers.IntegerField(source="vote_count", read_only=True)


class PostListQuerySerializer(serializers.Serializer):
    limit = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=10)
    skip = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=0)
    search = StrictCharField(max_length=TITLE_MAX_LENGTH, allow_blank=True, default="")
    sort = serializers.ChoiceField(
        choices=["new", "top"],
        default="new",
        help_text="new: newest first; top: most votes first, then newest.",
    )

    def validate_limit(self, value: int) -> int:
        return min(value, PAGE_MAX)
