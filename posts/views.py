from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api import schema as http_schema
from api.conditional import ConditionalReads, etag_of_data, has_if_match, require_if_match
from api.errors import NotOwner
from api.fields import parse_path_id, parse_query, request_body
from api.idempotency import idempotent
from api.openapi import error_responses
from api.paging import keyset_page, link_header, prefers_exact_count
from api.views import MethodCheckedFirst
from posts.models import Post
from posts.queries import ORDERINGS, matching_posts, visible_posts
from posts.serializers import PostListQuerySerializer, PostOutSerializer, PostSerializer

POST_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
NOT_FOUND = {404: "post with id: 7 was not found"}
MISSING = {404: "post with id: 7 does not exist"}
WRITE_ANSWERS = {
    **error_responses(401, 403, 404, 422, messages=MISSING),
    **http_schema.PRECONDITION_FAILED,
}


@extend_schema(tags=["Posts"])
class PostViewSet(ConditionalReads, MethodCheckedFirst, viewsets.GenericViewSet):
    serializer_class = PostSerializer
    # Any path segment reaches the view, which answers 422 for one that is not an integer.
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return visible_posts(self.request.user)

    def get_owned_post(self, pk: str, *, lock: bool = False) -> Post:
        """The caller's post, 404 if they cannot see it, then 403 if it is not theirs. With
        `lock`, its row stays locked (FOR UPDATE) until the caller's transaction ends."""
        post_id = parse_path_id(pk)
        posts = self.get_queryset().select_for_update(of=("self",)) if lock else self.get_queryset()
        post = posts.filter(pk=post_id).first()
        if post is None:
            raise NotFound(f"post with id: {post_id} does not exist")
        if post.owner_id != self.request.user.pk:
            raise NotOwner()
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
            **error_responses(401, 422),
            **http_schema.PRECONDITION_FAILED,
        },
    )
    def list(self, request: Request) -> Response:
        query = parse_query(PostListQuerySerializer, request.query_params)
        posts = matching_posts(request.user, search=query["search"])
        ordering = ORDERINGS[query["sort"]]
        page = keyset_page(posts, ordering, cursor=query["cursor"], skip=query["skip"], limit=query["limit"])
        headers = {}
        keep = {
            name: request.query_params[name]
            for name in ("limit", "search", "sort")
            if name in request.query_params
        }
        if link := link_header(request, page, ordering, keep):
            headers["Link"] = link
        if prefers_exact_count(request):
            headers["X-Total-Count"] = str(posts.count())
            headers["Preference-Applied"] = "count=exact"
        return Response(PostOutSerializer(page.rows, many=True).data, headers=headers)

    @extend_schema(
        summary="Create a post",
        parameters=http_schema.idempotency_parameters(),
        responses={
            201: PostSerializer,
            **error_responses(401, 409, messages={409: http_schema.IN_PROGRESS_MESSAGES}),
            **http_schema.IDEMPOTENT_UNPROCESSABLE,
        },
    )
    @idempotent
    def create(self, request: Request) -> Response:
        serializer = PostSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        serializer.save(owner=request.user)
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Get a post",
        parameters=[POST_ID, *http_schema.read_parameters()],
        responses={
            200: PostOutSerializer,
            **http_schema.NOT_MODIFIED,
            **error_responses(401, 404, 422, messages=NOT_FOUND),
            **http_schema.PRECONDITION_FAILED,
        },
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        post_id = parse_path_id(pk)
        post = self.get_queryset().filter(pk=post_id).first()
        if post is None:
            raise NotFound(f"post with id: {post_id} was not found")
        return Response(PostOutSerializer(post).data)

    @extend_schema(
        summary="Replace a post",
        description="Only its owner may; an omitted `published` becomes true.",
        parameters=[POST_ID, http_schema.IF_MATCH],
        responses={200: PostSerializer, **WRITE_ANSWERS},
    )
    def update(self, request: Request, pk: str) -> Response:
        return self._write(request, pk, partial=False)

    @extend_schema(
        summary="Change some fields of a post",
        description="Only its owner may.",
        parameters=[POST_ID, http_schema.IF_MATCH],
        responses={200: PostSerializer, **WRITE_ANSWERS},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._write(request, pk, partial=True)

    @extend_schema(
        summary="Delete a post",
        description="Only its owner may; its votes go with it.",
        parameters=[POST_ID, http_schema.IF_MATCH],
        responses={204: None, **WRITE_ANSWERS},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        with self._conditional(request) as conditional:
            post = self.get_owned_post(pk, lock=conditional)
            self._check_if_match(request, post, conditional)
            post.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _write(self, request: Request, pk: str, *, partial: bool) -> Response:
        with self._conditional(request) as conditional:
            post = self.get_owned_post(pk, lock=conditional)
            serializer = PostSerializer(post, data=request_body(request), partial=partial)
            serializer.is_valid(raise_exception=True)
            self._check_if_match(request, post, conditional)
            serializer.save()
        return Response(serializer.data)

    @staticmethod
    @contextmanager
    def _conditional(request: Request) -> Iterator[bool]:
        """Whether the write carries `If-Match`; if so, the ``with`` block is one transaction,
        in which the post is read locked (FOR UPDATE), compared and written: the check and the
        write are one atomic step. Without `If-Match` a write runs as before: no lock."""
        conditional = has_if_match(request)
        with transaction.atomic() if conditional else nullcontext():
            yield conditional

    @staticmethod
    def _check_if_match(request: Request, post: Post, conditional: bool) -> None:
        """412 unless `If-Match` holds the ETag `GET /posts/{id}` would give now. After 404, 403
        and 422, so a bad request hears what is wrong with it whatever its ETag."""
        if conditional:
            require_if_match(request, etag_of_data(PostOutSerializer(post).data))
