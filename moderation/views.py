"""POST /posts/{id}/report and POST /comments/{id}/report: a user asks staff to look at a post
or a comment (docs/api.md, "Reporting a post")."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.request_types import AuthenticatedRequest
from api.endpoints import Endpoint
from api.errors import Conflict
from api.openapi import error_responses
from api.throttling import ReportRateThrottle
from comments.models import Comment
from moderation import comment_services, services
from moderation.serializers import ReportSerializer
from posts.models import Post
from votes.serializers import MessageSerializer


class ReportView(Endpoint):
    """POST /posts/{id}/report: report a post to the moderators, once per post and user."""

    throttle_classes = [ReportRateThrottle]

    @extend_schema(
        summary="Report a post",
        description="Ask the moderators to look at a post. Once per post and user (409 after that); "
        "a post you cannot see is 404. Limited per user (`REPORT_RATE`, 429 past it).",
        request=ReportSerializer,
        responses={
            201: MessageSerializer,
            **error_responses(
                404,
                409,
                429,
                messages={
                    404: "post with id: 7 does not exist",
                    409: "post 7 already reported",
                    429: "Too many reports. Expected available in 60 seconds.",
                },
            ),
        },
        tags=["Posts"],
    )
    def post(self, request: AuthenticatedRequest, id: int) -> Response:
        """201 with a message; 404 for a post the caller cannot see, 409 for a second report."""
        post_id = id
        # As for PUT and PATCH: the post first (404), then the body (422).
        missing = NotFound(f"post with id: {post_id} does not exist")
        if not Post.objects.visible_to(request.user).filter(pk=post_id).exists():
            raise missing
        serializer = ReportSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        try:
            services.report_post(user=request.user, post_id=post_id, **serializer.validated_data)
        except services.AlreadyReported as exc:
            raise Conflict(f"post {post_id} already reported") from exc
        except services.PostGone as exc:
            raise missing from exc
        return Response({"message": "report received"}, status=status.HTTP_201_CREATED)


class CommentReportView(Endpoint):
    """POST /comments/{id}/report: report a comment to the moderators, once per comment and user."""

    throttle_classes = [ReportRateThrottle]

    @extend_schema(
        summary="Report a comment",
        description="Ask the moderators to look at a comment. Once per comment and user (409 after that); "
        "a comment you cannot see, a deleted or a hidden one is 404. Limited per user (`REPORT_RATE`, "
        "shared with reports of posts).",
        request=ReportSerializer,
        responses={
            201: MessageSerializer,
            **error_responses(
                404,
                409,
                429,
                messages={
                    404: "comment with id: 7 was not found",
                    409: "comment 7 already reported",
                    429: "Too many reports. Expected available in 60 seconds.",
                },
            ),
        },
        tags=["Comments"],
    )
    def post(self, request: AuthenticatedRequest, id: int) -> Response:
        """201 with a message; 404 for a comment the caller cannot see or that is a tombstone,
        then 422 for the body, 409 for a second report."""
        missing = NotFound(f"comment with id: {id} was not found")
        visible = Comment.objects.visible_to(request.user).filter(pk=id, deleted=False, hidden=False)
        if not visible.exists():
            raise missing
        serializer = ReportSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        try:
            comment_services.report_comment(user=request.user, comment_id=id, **serializer.validated_data)
        except comment_services.AlreadyReported as exc:
            raise Conflict(f"comment {id} already reported") from exc
        except comment_services.CommentGone as exc:
            raise missing from exc
        return Response({"message": "report received"}, status=status.HTTP_201_CREATED)
