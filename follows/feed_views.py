"""GET /feed: the caller's home feed (CONTRACT.md §7.5)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.request_types import AuthenticatedRequest
from api import schema as http_schema
from api.conditional import ConditionalReads
from api.endpoints import EndpointViewSet
from api.pagination import KeysetPagination
from api.paging import NEXT, Cursor, Page
from follows.feed import ORDERING, feed_page
from follows.serializers import FeedQuerySerializer
from posts.serializers import PostOutSerializer


class FeedPagination(KeysetPagination):
    """The feed's pages: the first carries ``rel="prev"`` (the posts newer than it, to poll
    with If-None-Match); no count."""

    poll_prev = True
    counts = False


class FeedView(ConditionalReads, mixins.ListModelMixin, EndpointViewSet):
    """The published, not hidden posts of the caller and of the active users the caller follows,
    newest first (ties by id), as ``PostOut``. One query per page (follows.feed)."""

    pagination_class = FeedPagination
    query_serializer_class = FeedQuerySerializer
    serializer_class = PostOutSerializer
    ordering = ORDERING
    request: AuthenticatedRequest
    paginator: FeedPagination
    list_params: dict[str, Any]

    @extend_schema(
        summary="Your home feed",
        description="The published posts of the users you follow and your own, newest first, as "
        "`GET /posts/` lists them (`PostOut`). `limit` (above 100 gives 100) and `cursor`; `skip`, "
        '`search`, `sort` and `Prefer` are ignored. The first page\'s `Link` `rel="prev"` answers '
        "the posts newer than it: poll it with `If-None-Match` (304 when nothing is new).",
        parameters=[FeedQuerySerializer, *http_schema.read_parameters(*http_schema.LIST_HEADERS[:1])],
        responses={200: PostOutSerializer(many=True), **http_schema.NOT_MODIFIED},
        tags=["Follows"],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The page the query asks for (follows.feed.feed_page: one statement), with
        KeysetPagination's links."""
        paginator = self.paginator
        query = paginator.parse_query(request, self)
        cursor: Cursor | None = query["cursor"]
        limit = query["limit"]
        direction = cursor.direction if cursor else NEXT
        posts = feed_page(
            self.request.user.pk,
            position=cursor.position if cursor else None,
            direction=direction,
            limit=limit + 1,
        )
        more = len(posts) > limit
        posts = posts[:limit]
        if direction == NEXT:
            page = Page(posts, has_next=more, has_prev=cursor is not None)
        else:  # read oldest first: shown newest first; from the oldest (no position), nothing older
            page = Page(posts[::-1], has_next=bool(cursor and cursor.position), has_prev=more)
        rows = paginator.keep(request, self, page, count=lambda: 0)  # counts = False: never called
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)
