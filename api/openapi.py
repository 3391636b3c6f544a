"""OpenAPI glue shared by every view: the bearer token's security scheme, the contract's error
answers, and the hook that gives the schema the original API's path spellings.

A view documents its own answers in its own ``@extend_schema``, taking the errors from here::

    @extend_schema(responses={200: PostOutSerializer, **error_responses(404, messages=NOT_FOUND)})

The answers every endpoint shares (401, 422, 503, 413, 415) and the rules per operation and per
field are api.autoschema's (EndpointSchema). Every status a route can answer must be listed:
the test suite checks each response it receives against the served schema.

The one global hook left, ``original_path_spellings``, is a preprocessing hook because it is a
fact about URLs, not about a view or a field: each route's URL pattern serves both spellings
(an optional trailing slash), and the original API spells some paths with the slash and some
without; the hook names the original's spelling of each.
"""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_field
from rest_framework import serializers

from api.authentication import INVALID_CREDENTIALS, NOT_AUTHENTICATED
from api.errors import NOT_AUTHORIZED


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The bearer token as the OAuth2 password flow at /login, so Swagger UI's "Authorize"
    button takes an email and a password, as in the original's docs."""

    target_class = "api.authentication.BearerTokenAuthentication"
    name = "OAuth2PasswordBearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "oauth2", "flows": {"password": {"scopes": {}, "tokenUrl": "login"}}}


class HTTPErrorSerializer(serializers.Serializer):
    """An error: `detail` says what went wrong."""

    detail = serializers.CharField()


@extend_schema_field({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}})
class LocationField(serializers.ListField):
    pass


class ValidationErrorSerializer(serializers.Serializer):
    """One invalid value: where it is (`body`, `query` or `path`, then the field), and why."""

    loc = LocationField()
    msg = serializers.CharField()
    type = serializers.CharField()


class HTTPValidationErrorSerializer(serializers.Serializer):
    """The request did not validate: one entry for each invalid value."""

    detail = ValidationErrorSerializer(many=True)


def _detail(*messages: str) -> list[OpenApiExample]:
    return [OpenApiExample(message, value={"detail": message}) for message in messages]


# The standard answer for each error status; a view may pass its own messages as examples.
ERRORS: dict[int, tuple[str, list[str]]] = {
    401: (
        "No bearer token (`Not authenticated`), or a bad, expired or revoked one, or one whose user "
        "is gone (`Could not validate credentials`). Sent with `WWW-Authenticate: Bearer`.",
        [NOT_AUTHENTICATED, INVALID_CREDENTIALS],
    ),
    403: ("The caller may not do this.", [NOT_AUTHORIZED]),
    404: ("Not found, or a draft of another user.", ["Not Found"]),
    409: ("Conflicts with what is already there.", ["Conflict"]),
    429: (
        "Too many requests from this client; retry after `Retry-After` seconds.",
        ["Request was throttled."],
    ),
    503: ("A dependency (the database) does not answer.", ["Database unavailable"]),
}


def error_response(status: int, *messages: str) -> OpenApiResponse:
    """The contract's answer for one error status (docs/api.md, "Errors"), with example `detail`
    messages (the status's defaults in ``ERRORS`` when none are given); 422 is the validation
    error's list. A status neither 422 nor in ``ERRORS`` is a KeyError."""
    if status == 422:
        return OpenApiResponse(
            HTTPValidationErrorSerializer,
            "Validation error: a missing, malformed or out-of-range value in the body, query or path.",
            [
                OpenApiExample(
                    "Invalid value",
                    value={
                        "detail": [{"loc": ["body", "title"], "msg": "Field required", "type": "missing"}]
                    },
                )
            ],
        )
    description, defaults = ERRORS[status]
    return OpenApiResponse(HTTPErrorSerializer, description, _detail(*(messages or defaults)))


def error_responses(
    *statuses: int, messages: Mapping[int, str | list[str]] | None = None
) -> dict[int, OpenApiResponse]:
    """The standard answers for several error statuses, for ``@extend_schema(responses=...)``.

    ``messages`` gives a route's own `detail` examples for some of them, e.g.
    ``error_responses(404, messages={404: "post with id: 7 was not found"})``. Declare here
    only what EndpointSchema does not add by itself (api.autoschema), or a default answer with
    this route's own messages (a public route's 401 for a bad refresh token). Returns
    ``{status: OpenApiResponse}``; a status other than 422 or one of ``ERRORS`` is a KeyError.
    """
    answers = {}
    for status in statuses:
        own = (messages or {}).get(status, [])
        answers[status] = error_response(status, *([own] if isinstance(own, str) else own))
    return answers


# Where the original API spells a path with a trailing slash; every other path without one.
# The app serves both spellings of every path; the schema names the original's.
SLASHED_PATHS = {"/", "/posts/", "/users/", "/vote/"}


def original_path_spellings(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Preprocessing hook: `/posts/{id}` and `/login`, not `/posts/{id}/` and `/login/`."""
    return [(path if path in SLASHED_PATHS else path.rstrip("/"), *rest) for path, *rest in endpoints]
