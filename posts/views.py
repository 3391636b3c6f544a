from typing import Any, cast

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.request_types import AuthenticatedRequest
from api import read_budget
from api import schema as http_schema
from api.compiled import unprepared
from api.conditional import ConditionalReads, ConditionalWrites, etag_of_data
from api.endpoints import EndpointViewSet
from api.idempotency import idempotent
from api.openapi import error_responses
from api.pagination import CompiledPagesMixin, KeysetPagination
from api.paging import Ordering, Page, prefers_exact_count
from api.throttling import PostRateThrottle
from posts import queries
from posts.creation import create_post
from posts.models import Post
from posts.permissions import IsOwnerOrReadOnly
from posts.queries import ORDERINGS, visible_post
from posts.serializers import (
    PostListQuerySerializer,
    PostOutSerializer,
    PostSerializer,
    PostWriteSerializer,
    post_representation,
    validated_post,
)
from webhooks import events
from webhooks.event_types import EventType

NOT_FOUND = {404: "post with id: 7 was not found"}
MISSING = {404: "post with id: 7 does not exist"}
WRITE_ANSWERS = {
    **error_responses(403, 404, messages=MISSING),
    **http_schema.PRECONDITION_FAILED,
}


@extend_schema(tags=["Posts"])
@extend_schema_view(
    list=extend_schema(
        summary="List posts",
        description="Published posts and your own drafts, newest first (`sort=top`: most votes first, "
        "then newest). `limit` above 100 gives 100; `search` matches a part of the title, ignoring case. "
        "The `Link` header's `next` and `prev` page through with a `cursor`.",
        parameters=[
            PostListQuerySerializer,
            *http_schema.read_parameters(http_schema.PREFER, *http_schema.LIST_HEADERS),
        ],
        responses={
            200: PostOutSerializer(many=True),
            **http_schema.NOT_MODIFIED,
            **http_schema.PRECONDITION_FAILED,
            **error_responses(
                429,
                messages={429: [read_budget.TOO_MANY, read_budget.SEARCH_IN_PROGRESS, read_budget.PAUSED]},
            ),
        },
    ),
    retrieve=extend_schema(
        summary="Get a post",
        description="A post with its vote count (`PostOut`). A draft is found only by its owner.",
        parameters=http_schema.read_parameters(),
        responses={
            200: PostOutSerializer,
            **http_schema.NOT_MODIFIED,
            **error_responses(404, messages=NOT_FOUND),
            **http_schema.PRECONDITION_FAILED,
        },
    ),
    update=extend_schema(
        summary="Replace a post",
        description="Only its owner may; an omitted `published` becomes true.",
        parameters=[http_schema.IF_MATCH],
        request=PostWriteSerializer,
        responses={200: PostSerializer, **WRITE_ANSWERS},
    ),
    destroy=extend_schema(
        summary="Delete a post",
        description="Only its owner may; its votes go with it.",
        parameters=[http_schema.IF_MATCH],
        responses={204: None, **WRITE_ANSWERS},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a post",
        description="Only its owner may.",
        parameters=[http_schema.IF_MATCH],
        request=PostWriteSerializer,
        responses={200: PostSerializer, **WRITE_ANSWERS},
    ),
)
class PostViewSet(
    ConditionalReads,
    ConditionalWrites,
    CompiledPagesMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    EndpointViewSet,
):
    """/posts/ and /posts/{id}: list, create, get, replace, change and delete posts; reads are
    conditional (ETag), writes of another user's post are refused (IsOwnerOrReadOnly)."""

    # DRF's order is the contract's (docs/api.md, "Routes"): get_object() answers 404, then 403
    # (IsOwnerOrReadOnly), before a write's body is read (422); If-Match (412) comes last.
    permission_classes = [IsAuthenticated, IsOwnerOrReadOnly]
    # New posts per user (POST_RATE); reads and changes are not counted.
    throttle_classes = [PostRateThrottle]
    # IsAuthenticated: every request that reaches an action or a hook has a logged-in user.
    request: AuthenticatedRequest
    # Any path segment reaches the view, which answers 422 for one that is not an integer.
    lookup_value_regex = "[^/]+"
    # The list: keyset pages in the order `sort` names (api.pagination).
    pagination_class = KeysetPagination
    query_serializer_class = PostListQuerySerializer
    orderings = ORDERINGS
    list_params: dict[str, Any]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list; a read that costs in proportion to the table (a short search, a deep skip,
        an exact count) spends the caller's budget of them, and any search holds one of the
        caller's reads in progress (api/read_budget.py: 429 past either)."""
        query = self.paginator.parse_query(request, self)
        exact_count = prefers_exact_count(request)
        with read_budget.for_list(
            self.request.user.pk, search=query["search"], skip=query["skip"], exact_count=exact_count
        ):
            return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Post]:
        """The posts the caller can see (``Post.objects.visible_to``) with their counts, locked while a
        conditional write runs (ConditionalWrites)."""
        return self.locked(Post.objects.visible_to(self.request.user).with_vote_count())

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        """``PostOut`` ({"Post": ..., "votes": n}) for reads, ``PostWriteSerializer`` for writes
        (it validates the body and answers the flat ``Post``)."""
        return PostOutSerializer if self.action in ("list", "retrieve") else PostWriteSerializer

    def compiled_page(self, ordering: Ordering, query: dict[str, Any]) -> Page[Post]:
        """The list's page: filter_queryset(get_queryset())'s, compiled once per shape (posts.queries)."""
        return queries.page(
            self.request.user,
            ordering,
            cursor=query["cursor"],
            skip=query["skip"],
            limit=query["limit"],
            search=query["search"],
        )

    def exact_count(self) -> int:
        """The list's count; a search's is planned for its own text, never prepared
        (api.compiled.unprepared): one plan shared by every text is the wrong one for most."""
        if not self.list_params["search"]:
            return super().exact_count()
        with unprepared(connections[router.db_for_read(Post)]):
            return super().exact_count()

    def filter_queryset[Row](self, queryset: QuerySet[Post, Row]) -> QuerySet[Post, Row]:
        """The list's ``search`` (posts.queries.matching)."""
        search = self.list_params["search"]
        return queries.matching(queryset, search) if search else queryset

    def get_object(self) -> Post:
        """The post of the URL's id (an integer: the base endpoint parsed it), or the contract's
        404 ("was not found" when reading it, "does not exist" when writing); then 403 from
        IsOwnerOrReadOnly unless the caller may do this to it."""
        post_id = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if self.lock_object or self.action != "retrieve":
            post = self.get_queryset().filter(pk=post_id).first()
        else:  # the same read, compiled once (posts.queries)
            post = visible_post(self.request.user, post_id)
        if post is None:
            missing = "was not found" if self.action == "retrieve" else "does not exist"
            raise NotFound(f"post with id: {post_id} {missing}")
        self.check_object_permissions(self.request, post)
        return post

    @extend_schema(
        summary="Create a post",
        description="The caller owns the new post; an omitted `published` becomes true. `id`, "
        "`owner_id` and `created_at` in the body are ignored.",
        parameters=http_schema.idempotency_parameters(),
        request=PostWriteSerializer,
        responses={
            201: PostSerializer,
            **error_responses(409, messages={409: http_schema.IN_PROGRESS_MESSAGES}),
            **http_schema.IDEMPOTENT_UNPROCESSABLE,
        },
    )
    # A replayed answer (api.idempotency) is Django's HttpResponse of the stored bytes, where
    # CreateModelMixin's create promises a DRF Response; DRF's dispatch, its only caller,
    # serves either.
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        """CreateModelMixin's create, its steps derived from the same serializer and done once
        per process where DRF redoes them per request (posts.serializers): the body validated
        by PostWriteSerializer (422), the post and its ``post.created`` event written by one
        statement (posts.creation), the flat ``Post`` answered with 201."""
        fields = validated_post(self.body)
        post = create_post(owner=self.request.user, **fields)
        data = post_representation(post)
        return Response(data, status=status.HTTP_201_CREATED, headers=self.get_success_headers(data))

    def perform_update(self, serializer: serializers.BaseSerializer[Post]) -> None:
        """412 for a stale If-Match (ConditionalWrites), else save; ``post.updated`` is recorded
        in the same transaction (webhooks)."""
        with transaction.atomic(savepoint=False):
            super().perform_update(serializer)
            post = cast(Post, serializer.instance)
            events.record(EventType.POST_UPDATED, {"post_id": post.pk, "user_id": post.owner_id})

    def perform_destroy(self, instance: Post) -> None:
        """412 for a stale If-Match (ConditionalWrites), else delete (its votes go with it:
        ON DELETE CASCADE); ``post.deleted`` is recorded in the same transaction (webhooks)."""
        data = {"post_id": instance.pk, "user_id": instance.owner_id}
        with transaction.atomic(savepoint=False):
            super().perform_destroy(instance)
            events.record(EventType.POST_DELETED, data)

    def current_etag(self, instance: Post) -> str:
        """The ETag ``GET /posts/{id}`` gives for the post now (ConditionalWrites' If-Match)."""
        return etag_of_data(PostOutSerializer(instance).data)
