from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, cast

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.request_types import AuthenticatedRequest
from api import schema as http_schema
from api.conditional import ConditionalReads, etag_of_data, has_if_match, require_if_match
from api.endpoints import EndpointViewSet, parse_query
from api.idempotency import idempotent
from api.openapi import error_responses
from api.paging import keyset_page, link_header, prefers_exact_count
from api.throttling import PostRateThrottle
from posts.models import Post
from posts.permissions import IsOwnerOrReadOnly
from posts.queries import ORDERINGS, offset_page, visible_post, visible_posts
from posts.serializers import (
    PAGE_DEFAULT,
    PAGE_MAX,
    PostListQuerySerializer,
    PostOutSerializer,
    PostSerializer,
    PostWriteSerializer,
)

NOT_FOUND = {404: "post with id: 7 was not found"}
MISSING = {404: "post with id: 7 does not exist"}
WRITE_ANSWERS = {
    **error_responses(403, 404, messages=MISSING),
    **http_schema.PRECONDITION_FAILED,
}


# The list's query when it is the usual one, "?limit=N" (N digits) or nothing: what
# PostListQuerySerializer gives for it, without running it.
LIST_DEFAULTS = {"skip": 0, "search": "", "sort": "new", "cursor": None}


def list_query(request: Request) -> dict[str, Any]:
    """The list's query parameters, validated by PostListQuerySerializer (raises its 422).
    ``?limit=N`` alone, N a number of at most 18 digits, is read directly: the serializer would
    give the same, at a tenth of a list request's CPU."""
    params = request.query_params
    if not params:
        return {"limit": PAGE_DEFAULT, **LIST_DEFAULTS}
    limit = params.get("limit") if len(params) == 1 else None
    if limit is not None and limit.isascii() and limit.isdigit() and len(limit) < 19:
        return {"limit": min(int(limit), PAGE_MAX), **LIST_DEFAULTS}
    return parse_query(PostListQuerySerializer, params)


@extend_schema(tags=["Posts"])
@extend_schema_view(
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
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    EndpointViewSet,
):
    """/posts/ and /posts/{id}: list, create, get, replace, change and delete posts; reads are
    conditional (ETag), writes of another user's post are refused (IsOwnerOrReadOnly)."""

    # DRF's order is the contract's (CONTRACT.md §4): get_object() answers 404, then 403
    # (IsOwnerOrReadOnly), before a write's body is read (422); If-Match (412) comes last.
    permission_classes = [IsAuthenticated, IsOwnerOrReadOnly]
    # New posts per user (POST_RATE); reads and changes are not counted.
    throttle_classes = [PostRateThrottle]
    # IsAuthenticated: every request that reaches an action or a hook has a logged-in user.
    request: AuthenticatedRequest
    # Any path segment reaches the view, which answers 422 for one that is not an integer.
    lookup_value_regex = "[^/]+"
    # True while a write that carries If-Match runs: the post is then read FOR UPDATE.
    lock_object = False

    def get_queryset(self) -> QuerySet[Post]:
        """The posts the caller can see (posts.queries.visible_posts), locked while a
        conditional write runs."""
        posts = visible_posts(self.request.user)
        return posts.select_for_update(of=("self",)) if self.lock_object else posts

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        """``PostOut`` ({"Post": ..., "votes": n}) for reads, ``PostWriteSerializer`` for writes
        (it validates the body and answers the flat ``Post``)."""
        return PostOutSerializer if self.action in ("list", "retrieve") else PostWriteSerializer

    def filter_queryset[Row](self, queryset: QuerySet[Post, Row]) -> QuerySet[Post, Row]:
        """The list's ``search``: titles holding it, ignoring case, ``%`` and ``_`` literal."""
        search = self.list_params["search"]
        return queryset.filter(title__icontains=search) if search else queryset

    def get_object(self) -> Post:
        """The post of the URL's id (an integer: the base endpoint parsed it), or the contract's
        404 ("was not found" when reading it, "does not exist" when writing); then 403 from
        IsOwnerOrReadOnly unless the caller may do this to it."""
        post_id = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if self.lock_object or self.action != "retrieve":
            post = self.get_queryset().filter(pk=post_id).first()
        else:  # the same read, with its SQL written once
            post = visible_post(self.request.user, post_id)
        if post is None:
            missing = "was not found" if self.action == "retrieve" else "does not exist"
            raise NotFound(f"post with id: {post_id} {missing}")
        self.check_object_permissions(self.request, post)
        return post

    @extend_schema(
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
        },
    )
    def list(self, request: Request) -> Response:
        # Strict limit/skip (a 422 for "?limit=" or "?limit=x") and keyset cursors do not fit
        # DRF's paginators, so the list pages itself.
        query = self.list_params = list_query(request)
        ordering = ORDERINGS[query["sort"]]
        if query["cursor"] is None and not query["search"]:  # the same read, its SQL written once
            page = offset_page(self.request.user, ordering, skip=query["skip"], limit=query["limit"])
        else:
            posts = self.filter_queryset(self.get_queryset())
            page = keyset_page(
                posts, ordering, cursor=query["cursor"], skip=query["skip"], limit=query["limit"]
            )
        headers = {}
        keep = {
            name: request.query_params[name]
            for name in ("limit", "search", "sort")
            if name in request.query_params
        }
        if link := link_header(request, page, ordering, keep):
            headers["Link"] = link
        if prefers_exact_count(request):
            headers["X-Total-Count"] = str(self.filter_queryset(self.get_queryset()).count())
            headers["Preference-Applied"] = "count=exact"
        return Response(PostOutSerializer(page.rows, many=True).data, headers=headers)

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
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer[Post]) -> None:
        """The new post is the caller's."""
        serializer.save(owner=self.request.user)

    @extend_schema(
        summary="Replace a post",
        description="Only its owner may; an omitted `published` becomes true.",
        parameters=[http_schema.IF_MATCH],
        request=PostWriteSerializer,
        responses={200: PostSerializer, **WRITE_ANSWERS},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PUT, and PATCH through DRF's partial_update: the mixin's, as one conditional write."""
        with self.conditional_write(request):
            return super().update(request, *args, **kwargs)

    def perform_update(self, serializer: serializers.BaseSerializer[Post]) -> None:
        """Once the body is valid: 412 for a stale If-Match, else save."""
        # UpdateModelMixin made the serializer with the post get_object() returned.
        self.check_if_match(cast(Post, serializer.instance))
        serializer.save()

    @extend_schema(
        summary="Delete a post",
        description="Only its owner may; its votes go with it.",
        parameters=[http_schema.IF_MATCH],
        responses={204: None, **WRITE_ANSWERS},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The mixin's, as one conditional write."""
        with self.conditional_write(request):
            return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: Post) -> None:
        """412 for a stale If-Match, else delete (its votes go with it: ON DELETE CASCADE)."""
        self.check_if_match(instance)
        instance.delete()

    @contextmanager
    def conditional_write(self, request: Request) -> Iterator[None]:
        """With `If-Match`, the ``with`` block is one transaction in which the post is read
        locked (FOR UPDATE), compared and written: the check and the write are one atomic step.
        Without it a write runs as any other: no lock."""
        self.lock_object = has_if_match(request)
        with transaction.atomic() if self.lock_object else nullcontext():
            yield

    def check_if_match(self, post: Post) -> None:
        """412 unless `If-Match` holds the ETag `GET /posts/{id}` would give now. After 404, 403
        and 422, so a bad request hears what is wrong with it whatever its ETag."""
        if self.lock_object:
            require_if_match(self.request, etag_of_data(PostOutSerializer(post).data))
