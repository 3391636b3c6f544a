"""Follows and the lists of them (CONTRACT.md §7.5): PUT/DELETE /users/{id}/follow,
GET /users/{id}/followers and /users/{id}/following."""

from typing import Any

from django.db import IntegrityError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.request_types import AuthenticatedRequest
from accounts.serializers import UserSerializer
from api import read_budget
from api import schema as http_schema
from api.conditional import ConditionalReads
from api.endpoints import Endpoint, EndpointViewSet
from api.errors import RequestValidationError
from api.openapi import error_responses
from api.pagination import KeysetPagination
from api.paging import Ordering, prefers_exact_count
from follows.models import Follow
from follows.throttling import FollowRateThrottle

MISSING = {404: "User with id: 7 does not exist"}


def active_user_or_404(user_id: int) -> None:
    """404 `User with id: {id} does not exist` for a missing, deleted or deactivated user."""
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        raise NotFound(f"User with id: {user_id} does not exist")


def not_self(request: AuthenticatedRequest, user_id: int) -> None:
    """422 at ``["path", "id"]`` for the caller's own id: one does not follow oneself."""
    if user_id == request.user.pk:
        raise RequestValidationError({"id": ["You cannot follow yourself"]}, location="path")


class FollowView(Endpoint):
    """PUT /users/{id}/follow: follow; DELETE: unfollow. Both idempotent, both counted
    against FOLLOW_RATE."""

    throttle_classes = [FollowRateThrottle]

    @extend_schema(
        summary="Follow a user",
        description="Idempotent: following again changes nothing (the follow keeps its time). "
        "Your own id is a 422; a missing or deactivated user a 404. Limited per user "
        "(`FOLLOW_RATE`, both directions together).",
        request=None,
        responses={204: None, **error_responses(404, 429, messages={**MISSING, 429: "Too many follows."})},
        tags=["Follows"],
    )
    def put(self, request: AuthenticatedRequest, id: int) -> Response:
        active_user_or_404(id)
        not_self(request, id)
        try:
            # ON CONFLICT DO NOTHING: the unique constraint decides between concurrent follows,
            # and a follow that exists keeps its time.
            Follow.objects.bulk_create(
                [Follow(follower_id=request.user.pk, followee_id=id)], ignore_conflicts=True
            )
        except IntegrityError as exc:  # the user was deleted since the check: no row to point at
            raise NotFound(f"User with id: {id} does not exist") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Unfollow a user",
        description="Idempotent: 204 whether or not you followed them.",
        responses={204: None, **error_responses(404, 429, messages={**MISSING, 429: "Too many follows."})},
        tags=["Follows"],
    )
    def delete(self, request: AuthenticatedRequest, id: int) -> Response:
        active_user_or_404(id)
        not_self(request, id)
        Follow.objects.filter(follower_id=request.user.pk, followee_id=id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowListView(ConditionalReads, mixins.ListModelMixin, EndpointViewSet):
    """A user's followers or followees, the most recent follow first (ties by the listed user's
    id, descending), active users only. ``side`` names the listed end of the follows."""

    pagination_class = KeysetPagination
    paginator: KeysetPagination
    serializer_class = UserSerializer
    request: AuthenticatedRequest
    side = "follower"  # "follower": GET /users/{id}/followers; "followee": /following

    @property
    def ordering(self) -> Ordering:
        """Read off follow_followers_newest / follow_following_newest (follows.models)."""
        return Ordering("recent", ("created_at", f"{self.side}_id"))

    def get_queryset(self) -> QuerySet[Follow]:
        listed_by = "followee" if self.side == "follower" else "follower"
        return Follow.objects.filter(
            **{f"{listed_by}_id": self.kwargs["id"], f"{self.side}__is_active": True}
        ).select_related(self.side)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        active_user_or_404(kwargs["id"])
        query = self.paginator.parse_query(request, self)
        # A deep skip or an exact count reads every follow of the user (api/read_budget.py).
        with read_budget.for_list(
            self.request.user.pk, skip=query["skip"], exact_count=prefers_exact_count(request)
        ):
            follows = self.paginate_queryset(self.get_queryset())
            assert follows is not None  # noqa: S101 (pagination_class is set)
            users = [getattr(follow, self.side) for follow in follows]
            return self.get_paginated_response(UserSerializer(users, many=True).data)


LIST_PARAMETERS = http_schema.read_parameters(http_schema.PREFER, *http_schema.LIST_HEADERS)
LIST_RESPONSES = {
    200: UserSerializer(many=True),
    **http_schema.NOT_MODIFIED,
    **error_responses(404, 429, messages={**MISSING, 429: [read_budget.TOO_MANY, read_budget.PAUSED]}),
}


@extend_schema(
    summary="List a user's followers",
    description="Active users following user `id`, the most recent follow first. Paged as `GET /posts/` "
    "(`limit`, `cursor`, `Link`, `Prefer: count=exact`).",
    parameters=LIST_PARAMETERS,
    responses=LIST_RESPONSES,
    tags=["Follows"],
)
class FollowersView(FollowListView):
    side = "follower"


@extend_schema(
    summary="List whom a user follows",
    description="Active users that user `id` follows, the most recent follow first. Paged as `GET /posts/` "
    "(`limit`, `cursor`, `Link`, `Prefer: count=exact`).",
    parameters=LIST_PARAMETERS,
    responses=LIST_RESPONSES,
    tags=["Follows"],
)
class FollowingView(FollowListView):
    side = "followee"
