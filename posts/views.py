from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from config.exceptions import NotOwner
from config.fields import parse_path_id, parse_query, request_body
from config.schema import error_responses
from config.views import MethodCheckedFirst
from posts.models import Post
from posts.queries import visible_posts
from posts.serializers import PostListQuerySerializer, PostOutSerializer, PostSerializer

POST_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
NOT_FOUND = {404: "post with id: 7 was not found"}
MISSING = {404: "post with id: 7 does not exist"}


@extend_schema(tags=["Posts"])
class PostViewSet(MethodCheckedFirst, viewsets.GenericViewSet):
    serializer_class = PostSerializer
    # Any path segment reaches the view, which answers 422 for one that is not an integer.
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return visible_posts(self.request.user)

    def get_owned_post(self, pk: str) -> Post:
        post_id = parse_path_id(pk)
        post = self.get_queryset().filter(pk=post_id).first()
        if post is None:
            raise NotFound(f"post with id: {post_id} does not exist")
        if post.owner_id != self.request.user.pk:
            raise NotOwner()
        return post

    @extend_schema(
        summary="List posts",
        description="Published posts and your own drafts, newest first (`sort=top`: most votes first, "
        "then newest). `limit` above 100 gives 100; `search` matches a part of the title, ignoring case.",
        parameters=[PostListQuerySerializer],
        responses={200: PostOutSerializer(many=True), **error_responses(401, 422)},
    )
    def list(self, request: Request) -> Response:
        query = parse_query(PostListQuerySerializer, request.query_params)
        posts = self.get_queryset()
        if query["search"]:
            posts = posts.filter(title__icontains=query["search"])
        order = ("-created_at", "-id") if query["sort"] == "new" else ("-vote_total", "-created_at", "-id")
        page = posts.order_by(*order)[query["skip"] : query["skip"] + query["limit"]]
        return Response(PostOutSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a post",
        responses={201: PostSerializer, **error_responses(401, 422)},
    )
    def create(self, request: Request) -> Response:
        serializer = PostSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        serializer.save(owner=request.user)
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Get a post",
        parameters=[POST_ID],
        responses={200: PostOutSerializer, **error_responses(401, 404, 422, messages=NOT_FOUND)},
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
        parameters=[POST_ID],
        responses={200: PostSerializer, **error_responses(401, 403, 404, 422, messages=MISSING)},
    )
    def update(self, request: Request, pk: str) -> Response:
        return self._write(request, pk, partial=False)

    @extend_schema(
        summary="Change some fields of a post",
        description="Only its owner may.",
        parameters=[POST_ID],
        responses={200: PostSerializer, **error_responses(401, 403, 404, 422, messages=MISSING)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._write(request, pk, partial=True)

    @extend_schema(
        summary="Delete a post",
        description="Only its owner may; its votes go with it.",
        parameters=[POST_ID],
        responses={204: None, **error_responses(401, 403, 404, 422, messages=MISSING)},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        post = self.get_owned_post(pk)
        post.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _write(self, request: Request, pk: str, *, partial: bool) -> Response:
        post = self.get_owned_post(pk)
        serializer = PostSerializer(post, data=request_body(request), partial=partial)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)
