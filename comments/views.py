"""/posts/{id}/comments and /comments/{id}: a post's threaded comments (docs/comments.md).

Paging, ETags, If-Match, Idempotency-Key and the rate limit are declared from api/ (see
docs/resources.md); what is the comments' own is the thread: which list (``parent_id``), who may
write, and tombstones.
"""

from typing import Any, cast

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.request_types import AuthenticatedRequest
from api import read_budget
from api import schema as http_schema
from api.conditional import ConditionalReads, ConditionalWrites, etag_of_data
from api.endpoints import EndpointViewSet
from api.errors import RequestValidationError
from api.idempotency import idempotent
from api.openapi import error_responses
from api.pagination import CompiledPagesMixin, KeysetPagination
from api.paging import Ordering, Page, prefers_exact_count
from api.throttling import CommentRateThrottle
from comments import queries, services
from comments.models import Comment
from comments.serializers import (
    CommentCreateSerializer,
    CommentEditSerializer,
    CommentListQuerySerializer,
    CommentSerializer,
)
from posts.permissions import IsOwnerOrReadOnly

POST_NOT_FOUND = {404: "post with id: 7 was not found"}
COMMENT_NOT_FOUND = {404: "comment with id: 7 was not found"}


class CommentPagination(KeysetPagination):
    """Oldest first; the last page's ``rel="next"`` answers the comments added after it (a
    client polls a thread with it); a cursor is bound to its post and its ``parent_id``."""

    poll_next = True
    scope_parameters = ("parent_id",)


def post_not_found(post_id: int) -> NotFound:
    return NotFound(f"post with id: {post_id} was not found")


@extend_schema(tags=["Comments"])
@extend_schema_view(
    list=extend_schema(
        summary="List a post's comments",
        description="The top-level comments, oldest first (ties by id), or with `parent_id` the direct "
        "replies of that comment. Deleted comments that have replies, and hidden ones, are tombstones. "
        "`limit` above 100 gives 100. The `Link` header's `next` pages on with a `cursor`; on the last "
        "page it answers the comments added since (poll it with `If-None-Match`).",
        parameters=[
            CommentListQuerySerializer,
            *http_schema.read_parameters(http_schema.PREFER, *http_schema.LIST_HEADERS),
        ],
        responses={
            200: CommentSerializer(many=True),
            **http_schema.NOT_MODIFIED,
            **error_responses(
                404, 429, messages={**POST_NOT_FOUND, 429: [read_budget.TOO_MANY, read_budget.PAUSED]}
            ),
            **http_schema.PRECONDITION_FAILED,
        },
    ),
)
class PostCommentsViewSet(ConditionalReads, CompiledPagesMixin, EndpointViewSet):
    """/posts/{id}/comments: list a post's comments, and comment on it."""

    permission_classes = [IsAuthenticated]
    request: AuthenticatedRequest
    pagination_class = CommentPagination
    query_serializer_class = CommentListQuerySerializer
    ordering = Ordering("old", ("created_at", "id"), ascending=True)
    serializer_class = CommentSerializer
    list_params: dict[str, Any]
    paginator: CommentPagination

    # New comments per user (COMMENT_RATE); it counts POST only, so reads carry no RateLimit.
    throttle_classes = [CommentRateThrottle]

    def check_post(self) -> int:
        """The URL's post id, or the contract's 404 when the caller cannot see that post."""
        post_id = self.kwargs["id"]
        if not queries.post_visible(self.request.user, post_id):  # compiled once (comments.queries)
            raise post_not_found(post_id)
        return post_id

    def get_queryset(self) -> QuerySet[Comment]:
        """The list the query names: the post's top-level comments, or one comment's replies."""
        return queries.thread(self.kwargs["id"], self.list_params["parent_id"])

    def compiled_page(self, ordering: Ordering, query: dict[str, Any]) -> Page[Comment]:
        """get_queryset()'s page, compiled once per shape (comments.queries)."""
        return queries.page(
            self.kwargs["id"],
            query["parent_id"],
            ordering,
            cursor=query["cursor"],
            skip=query.get("skip", 0),
            limit=query["limit"],
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """404 for a post the caller cannot see, then 422 for a bad query or a ``parent_id``
        that is not a comment of this post, then 429 past the budget of expensive reads, then
        the page."""
        post_id = self.check_post()
        query = self.paginator.parse_query(request, self)
        parent_id = query["parent_id"]
        if parent_id is not None and not queries.comment_of_post(parent_id, post_id):
            raise RequestValidationError({"parent_id": ["Not a comment of this post"]}, location="query")
        # A deep skip or an exact count reads the whole thread (api/read_budget.py: 429 past the budget).
        with read_budget.for_list(
            self.request.user.pk, skip=query["skip"], exact_count=prefers_exact_count(request)
        ):
            return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Comment on a post",
        description="A top-level comment, or with `parent_id` a reply to a live comment of the same post "
        "(any depth). The owner of a draft may comment on it. Limited per user (`COMMENT_RATE`).",
        parameters=http_schema.idempotency_parameters(),
        request=CommentCreateSerializer,
        responses={
            201: CommentSerializer,
            **error_responses(
                404,
                409,
                429,
                messages={
                    **POST_NOT_FOUND,
                    409: http_schema.IN_PROGRESS_MESSAGES,
                    429: "Too many comments. Expected available in 60 seconds.",
                },
            ),
            **http_schema.IDEMPOTENT_UNPROCESSABLE,
        },
    )
    @idempotent
    def create(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """201 with the new `Comment`; 404 for a post the caller cannot see, then 422 for the body
        (``parent_id`` not a live comment of this post included)."""
        post_id = self.check_post()
        serializer = CommentCreateSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        try:
            comment = services.create_comment(
                owner=request.user, post_id=post_id, **serializer.validated_data
            )
        except services.ParentNotLive as exc:
            raise RequestValidationError({"parent_id": ["Not a live comment of this post"]}) from exc
        except services.PostGone as exc:
            raise post_not_found(post_id) from exc
        return Response(CommentSerializer(comment).data, status=201)


WRITE_ANSWERS = {
    **error_responses(403, 404, messages=COMMENT_NOT_FOUND),
    **http_schema.PRECONDITION_FAILED,
}


@extend_schema(tags=["Comments"])
@extend_schema_view(
    retrieve=extend_schema(
        summary="Get a comment",
        description="A deleted comment with replies, or a hidden one, is a tombstone.",
        parameters=http_schema.read_parameters(),
        responses={
            200: CommentSerializer,
            **http_schema.NOT_MODIFIED,
            **error_responses(404, messages=COMMENT_NOT_FOUND),
            **http_schema.PRECONDITION_FAILED,
        },
    ),
    partial_update=extend_schema(
        summary="Edit a comment",
        description="Only its owner may; `content` is required. Sets `edited_at`.",
        parameters=[http_schema.IF_MATCH],
        request=CommentEditSerializer,
        responses={200: CommentSerializer, **WRITE_ANSWERS},
    ),
    destroy=extend_schema(
        summary="Delete a comment",
        description="Only its owner may. With replies it stays in its place as a tombstone until the last "
        "reply is gone; without, it is gone.",
        parameters=[http_schema.IF_MATCH],
        responses={204: None, **WRITE_ANSWERS},
    ),
)
class CommentViewSet(
    ConditionalReads,
    ConditionalWrites,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    EndpointViewSet,
):
    """/comments/{id}: get, edit and delete one comment."""

    # The order docs/comments.md states: 404, 403 (IsOwnerOrReadOnly), the body (422), If-Match (412).
    permission_classes = [IsAuthenticated, IsOwnerOrReadOnly]
    request: AuthenticatedRequest
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "patch", "delete", "head", "options"]
    serializer_class = CommentSerializer

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        """`Comment` for reads; the edit body (answered as the `Comment`) for PATCH."""
        return CommentSerializer if self.action == "retrieve" else CommentEditSerializer

    def get_queryset(self) -> QuerySet[Comment]:
        """The comments of posts the caller can see, locked while a conditional write runs."""
        return self.locked(Comment.objects.visible_to(self.request.user))

    def get_object(self) -> Comment:
        """The comment of the URL's id, or the contract's 404 (for a write, also when it is a
        tombstone); then 403 unless the caller owns it."""
        comment_id = self.kwargs["pk"]
        comment = self.get_queryset().filter(pk=comment_id).first()
        if comment is None or (self.action != "retrieve" and comment.is_tombstone):
            raise comment_not_found(comment_id)
        self.check_object_permissions(self.request, comment)
        return comment

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PATCH: the content is the one field a client writes, so it is required."""
        return self.update(request, *args, **kwargs)

    def perform_update(self, serializer: serializers.BaseSerializer[Comment]) -> None:
        """412 for a stale If-Match (ConditionalWrites), else the new content."""
        comment = cast(Comment, serializer.instance)  # an update's serializer holds the comment
        self.check_if_match(comment)
        try:
            services.edit_comment(comment, content=serializer.validated_data["content"])
        except services.CommentGone as exc:
            raise comment_not_found(self.kwargs["pk"]) from exc

    def perform_destroy(self, instance: Comment) -> None:
        """412 for a stale If-Match, else delete (a tombstone while it has replies)."""
        self.check_if_match(instance)
        try:
            services.delete_comment(instance)
        except services.CommentGone as exc:
            raise comment_not_found(self.kwargs["pk"]) from exc

    def current_etag(self, instance: Comment) -> str:
        """The ETag ``GET /comments/{id}`` gives for the comment now."""
        return etag_of_data(CommentSerializer(instance).data)


def comment_not_found(comment_id: int) -> NotFound:
    return NotFound(f"comment with id: {comment_id} was not found")
