"""OpenAPI documentation of the headers and statuses of docs/api.md, "HTTP semantics", for the views'
``@extend_schema``: request headers as parameters, response headers on the answers that carry
them, and the answers 304, 409 (key in progress), 412 and 422 (key reused)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
)

from api.conditional import PreconditionFailed
from api.idempotency import HEADER, IN_PROGRESS, KEY_PATTERN, REPLAYED, REUSED
from api.openapi import HTTPErrorSerializer, HTTPValidationErrorSerializer

ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description="A strong validator of this body: send it back in `If-None-Match` (reads) or `If-Match` (writes).",
)
PRIVATE = [
    OpenApiParameter(
        "Cache-Control", str, OpenApiParameter.HEADER, response=[200], description="`private`: per caller."
    ),
    OpenApiParameter(
        "Vary",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="`Authorization`: drafts differ per user.",
    ),
]
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="ETags from earlier answers: 304 with no body if one still matches.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="The post's ETag as `GET /posts/{id}` gave it: 412 if the post has changed since.",
)
PREFER = OpenApiParameter(
    "Prefer",
    str,
    OpenApiParameter.HEADER,
    description="`count=exact` adds `X-Total-Count`, the number of posts the query matches (costs a count).",
)
LIST_HEADERS = [
    OpenApiParameter(
        "Link",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description='RFC 8288 links: `rel="next"` when more posts may follow, `rel="prev"` when this is not '
        "the first page. Each is this query with a `cursor`.",
    ),
    OpenApiParameter(
        "X-Total-Count",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="With `Prefer: count=exact`: the number of posts the query matches, for the caller.",
    ),
    OpenApiParameter(
        "Preference-Applied",
        str,
        OpenApiParameter.HEADER,
        response=[200],
        description="`count=exact` when `X-Total-Count` was sent (RFC 7240).",
    ),
]
IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    pattern=KEY_PATTERN,
    description="A retry with the same key and body within 24 hours gets the first answer again "
    f"(with `{REPLAYED}: true`) and changes nothing.",
)
REPLAYED_HEADER = OpenApiParameter(
    REPLAYED,
    str,
    OpenApiParameter.HEADER,
    response=True,
    description="`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
)

NOT_MODIFIED = {
    304: OpenApiResponse(description="Not modified: `If-None-Match` lists the current ETag. No body.")
}
PRECONDITION_FAILED = {
    412: OpenApiResponse(
        HTTPErrorSerializer,
        "`If-Match` does not match the current ETag: nothing was changed.",
        [OpenApiExample("Stale ETag", value={"detail": PreconditionFailed.default_detail})],
    )
}
IN_PROGRESS_MESSAGES = [IN_PROGRESS]
# A route that takes Idempotency-Key answers 422 either way: a list (a bad value) or a string.
IDEMPOTENT_UNPROCESSABLE = {
    422: OpenApiResponse(
        PolymorphicProxySerializer(
            component_name="ValidationOrKeyReuseError",
            serializers=[HTTPValidationErrorSerializer, HTTPErrorSerializer],
            resource_type_field_name=None,
        ),
        "Validation error (`detail` a list of `{loc, msg, type}`), or the Idempotency-Key was first "
        "used with another request (`detail` a string).",
        [OpenApiExample("Key reused", value={"detail": REUSED})],
    )
}


def read_parameters(*extra: OpenApiParameter) -> list[OpenApiParameter]:
    """The headers of a conditional, per-caller read."""
    return [*extra, IF_NONE_MATCH, ETAG, *PRIVATE]


def idempotency_parameters() -> list[OpenApiParameter]:
    return [IDEMPOTENCY_KEY, REPLAYED_HEADER]
