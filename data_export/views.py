"""GET /users/me/export: everything the service holds about the caller, as one JSON document.

The document is ``{"user", "posts", "votes", "comments", "following", "followers", "reports"}``
(docs/api.md), written while it is read: each section's rows come from the database in
batches (``QuerySet.iterator``) and go out in chunks of about 64 KB, so a large account is never
held in memory. It holds only what the caller made or what is about the caller: their posts
(drafts and posts staff hid included: they wrote them), their votes and reports (post ids, not
the posts: those may be another user's drafts or hidden posts), and never a password hash or a
token.

Adding a section (comments, follows): give ``SECTIONS`` the app's function for it, e.g.
``"comments": comments.export.rows_of``, a function of the user that yields one JSON-ready dict
per row (datetimes as ``datetime``); and its row serializer to ``DataExportSerializer`` for
the schema.
"""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from accounts.models import User
from accounts.request_types import AuthenticatedRequest
from accounts.serializers import UserSerializer
from api.endpoints import Endpoint
from api.openapi import error_responses
from api.throttling import ExportRateThrottle
from comments import export as comments_export
from follows import export as follows_export
from moderation.models import Reason, Report
from posts.models import Post
from votes.models import Vote

# Rows per database round trip, and bytes per chunk of the answer.
BATCH_ROWS = 2000
CHUNK_BYTES = 64 * 1024

Section = Callable[[User], Iterable[Mapping[str, Any]]]


def _posts(user: User) -> Iterable[Mapping[str, Any]]:
    fields = ("id", "title", "content", "published", "hidden", "created_at")
    return Post.objects.filter(owner=user).order_by("id").values(*fields).iterator(BATCH_ROWS)


def _votes(user: User) -> Iterable[Mapping[str, Any]]:
    return (
        Vote.objects.filter(user=user)
        .order_by("post_id")
        .values("post_id", "created_at")
        .iterator(BATCH_ROWS)
    )


def _reports(user: User) -> Iterable[Mapping[str, Any]]:
    fields = ("post_id", "reason", "note", "created_at", "resolved_at")
    return Report.objects.filter(reporter=user).order_by("id").values(*fields).iterator(BATCH_ROWS)


def _none_yet(user: User) -> Iterable[Mapping[str, Any]]:
    """A section whose app does not exist yet: an empty list, so clients can rely on the key."""
    return ()


# The document's sections after "user", in order. Comments and follows: see the module docstring.
SECTIONS: dict[str, Section] = {
    "posts": _posts,
    "votes": _votes,
    "comments": comments_export.rows_of,
    "following": follows_export.following,
    "followers": follows_export.followers,
    "reports": _reports,
}

_DATETIME = serializers.DateTimeField()


def _json(value: Any) -> str:
    def default(item: object) -> str:
        if isinstance(item, datetime):
            # DRF's form, the API's everywhere: UTC, microseconds, "+00:00" (REST_FRAMEWORK).
            return _DATETIME.to_representation(item)
        raise TypeError(f"{type(item).__name__} is not JSON")

    return json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))


def document(user: User) -> Iterator[bytes]:
    """The export of ``user`` as chunks of UTF-8 JSON, read from the database as it is sent."""
    parts = ['{"user":', _json(UserSerializer(user).data)]
    size = 0
    for key, section in SECTIONS.items():
        parts.append(f",{_json(key)}:[")
        for index, row in enumerate(section(user)):
            part = _json(row) if index == 0 else "," + _json(row)
            parts.append(part)
            size += len(part)
            if size >= CHUNK_BYTES:
                yield "".join(parts).encode()
                parts, size = [], 0
        parts.append("]")
    parts.append("}")
    yield "".join(parts).encode()


class ExportPostSerializer(serializers.Serializer):
    """One of the caller's posts (for the schema)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    content = serializers.CharField()
    published = serializers.BooleanField()
    hidden = serializers.BooleanField(help_text="Hidden by staff: no one else sees it.")
    created_at = serializers.DateTimeField()


class ExportVoteSerializer(serializers.Serializer):
    """One of the caller's votes (for the schema)."""

    post_id = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ExportReportSerializer(serializers.Serializer):
    """One of the caller's reports of a post (for the schema)."""

    post_id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=Reason.choices)
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True, help_text="When staff acted on it, if they did.")


class DataExportSerializer(serializers.Serializer):
    """The export document (for the schema; the view writes it with ``document``)."""

    user = UserSerializer()
    posts = ExportPostSerializer(many=True, help_text="The caller's posts, drafts and hidden ones included.")
    votes = ExportVoteSerializer(many=True)
    comments = comments_export.ExportCommentSerializer(
        many=True, help_text="The caller's comments, hidden ones included."
    )
    following = follows_export.ExportFollowSerializer(many=True, help_text="The users the caller follows.")
    followers = follows_export.ExportFollowSerializer(many=True, help_text="The users following the caller.")
    reports = ExportReportSerializer(many=True, help_text="The reports the caller made.")


class DataExportView(Endpoint):
    """GET /users/me/export: the caller's data, streamed (EXPORT_RATE per user)."""

    throttle_classes = [ExportRateThrottle]

    @extend_schema(
        summary="Export the caller's data",
        description=(
            "Everything the service holds about the caller, as one JSON document, written while"
            " it is sent: the user, their posts (drafts and posts hidden by staff included), their"
            " votes, comments, follows both ways and the reports they made. Never a password"
            " hash or a token. Limited per user (`EXPORT_RATE`, 5 an hour by default)."
        ),
        responses={
            200: OpenApiResponse(DataExportSerializer, description="The export document."),
            **error_responses(429, messages={429: ExportRateThrottle.message}),
        },
        tags=["Users"],
    )
    def get(self, request: AuthenticatedRequest) -> StreamingHttpResponse:
        """200 with the document, streamed; 429 past EXPORT_RATE."""
        response = StreamingHttpResponse(document(request.user), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="user-{request.user.pk}-export.json"'
        return response
