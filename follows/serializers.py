from rest_framework import serializers

from api.fields import BIGINT_MAX, StrictIntegerField
from api.pagination import PAGE_DEFAULT, PAGE_MAX
from api.paging import CursorField
from follows.feed import ORDERING
from posts.models import Post


class FeedQuerySerializer(serializers.Serializer):
    """GET /feed's query: `limit` and `cursor` (CONTRACT.md §7.5: `skip`, `search` and `sort`
    are ignored, so they are not read)."""

    limit = StrictIntegerField(min_value=0, max_value=BIGINT_MAX, default=PAGE_DEFAULT)
    cursor = CursorField(model=Post, orderings=[ORDERING], required=False, default=None)

    def validate_limit(self, value: int) -> int:
        """Above 100 gives 100, as for posts."""
        return min(value, PAGE_MAX)
