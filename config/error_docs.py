"""OpenAPI descriptions of the contract's error answers, for ``extend_schema(responses=...)``."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

DetailMessage = inline_serializer("DetailMessage", {"detail": serializers.CharField()})
ValidationErrorList = inline_serializer(
    "ValidationErrorList",
    {
        "detail": inline_serializer(
            "ValidationErrorItem",
            {
                "loc": serializers.ListField(child=serializers.CharField()),
                "msg": serializers.CharField(),
                "type": serializers.CharField(),
            },
            many=True,
        )
    },
)

_DESCRIPTIONS = {
    401: "`Not authenticated` (no bearer token) or `Could not validate credentials`; "
    "header `WWW-Authenticate: Bearer`.",
    403: "`Not authorized to perform requested action`.",
    404: "The resource does not exist (or is someone else's draft).",
    409: "Conflict.",
    422: "Validation error: where (`loc`), what (`msg`) and its kind (`type`).",
    429: "Too many requests from this client address; header `Retry-After` gives the seconds to wait.",
    503: "A dependency (the database) does not answer.",
}


def error_responses(*codes: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """Responses for the given error codes; ``descriptions`` overrides one as ``e401="..."``."""
    return {
        code: OpenApiResponse(
            ValidationErrorList if code == 422 else DetailMessage,
            description=descriptions.get(f"e{code}", _DESCRIPTIONS[code]),
        )
        for code in codes
    }
