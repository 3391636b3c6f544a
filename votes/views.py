from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.request_types import AuthenticatedRequest
from api import schema as http_schema
from api.endpoints import Endpoint
from api.errors import Conflict
from api.idempotency import idempotent
from api.openapi import error_responses
from api.throttling import VoteRateThrottle
from votes import services
from votes.serializers import MessageSerializer, VoteSerializer, validated_vote


class VoteView(Endpoint):
    """POST /vote/: add (``dir`` 1) or remove (``dir`` 0) the caller's vote on a post."""

    throttle_classes = [VoteRateThrottle]  # both directions count

    @extend_schema(
        summary="Vote on a post",
        description="`dir` 1 adds your vote (409 if it is already there); 0 removes it (404 if there is none).",
        request=VoteSerializer,
        parameters=http_schema.idempotency_parameters(),
        responses={
            201: MessageSerializer,
            **error_responses(
                404,
                409,
                messages={
                    404: ["Post with id: 7 does not exist", "Vote does not exist"],
                    409: ["user 1 has already voted on post 7", *http_schema.IN_PROGRESS_MESSAGES],
                },
            ),
            **http_schema.IDEMPOTENT_UNPROCESSABLE,
        },
        tags=["Vote"],
    )
    @idempotent
    def post(self, request: AuthenticatedRequest) -> Response:
        """201 with a message; 404 for a post the caller cannot see or a missing vote, 409 for a
        second vote."""
        fields = validated_vote(self.body)
        post_id, direction = fields["post_id"], fields["dir"]
        post_missing = NotFound(f"Post with id: {post_id} does not exist")
        # One statement each: the post's visibility checked first, then the change.
        if direction == 1:
            try:
                services.cast_vote(user=request.user, post_id=post_id)
            except services.AlreadyVoted as exc:
                raise Conflict(f"user {request.user.pk} has already voted on post {post_id}") from exc
            except (services.NotVisible, services.PostGone) as exc:
                raise post_missing from exc
            message = "successfully added vote"
        else:
            try:
                services.retract_vote(user=request.user, post_id=post_id)
            except services.NotVisible as exc:
                raise post_missing from exc
            except services.NoVote as exc:
                raise NotFound("Vote does not exist") from exc
            message = "successfully deleted vote"
        return Response({"message": message}, status=status.HTTP_201_CREATED)
