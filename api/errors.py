"""The contract's error bodies for every error DRF, SimpleJWT and Django raise.

Every error is ``{"detail": ...}``. Validation errors are 422 with a list of
``{"loc": [...], "msg": str, "type": str}``, where ``loc`` starts with ``body``, ``query`` or
``path``.
"""

import sys
from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from api.authentication import INVALID_CREDENTIALS, NOT_AUTHENTICATED
from outage.responses import database_unavailable, is_database_outage

NOT_AUTHORIZED = "Not authorized to perform requested action"
# What Django raises for a body past DATA_UPLOAD_MAX_MEMORY_SIZE or its field/file counts.
TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


class ValidationErrorItem(TypedDict):
    """One entry of a 422's ``detail`` list, FastAPI's shape (docs/api.md): ``loc`` is the
    part of the request (``body``, ``query``, ``path``) then field names and list indexes."""

    loc: list[str | int]
    msg: str
    type: str


class RequestValidationError(exceptions.ValidationError):
    """A validation error with the part of the request it is about: body, query or path."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, detail: Any, location: str = "body") -> None:
        super().__init__(detail)
        self.location = location


class NotOwner(exceptions.PermissionDenied):
    """403 "Not authorized to perform requested action": any refusal without a message of its
    own (docs/api.md, "Routes": the text for a post of another user)."""

    default_detail = NOT_AUTHORIZED


class PayloadTooLarge(exceptions.APIException):
    """413 "Request body too large": a body over DATA_UPLOAD_MAX_MEMORY_SIZE."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large"


class Conflict(exceptions.APIException):
    """409, with the route's own message (a taken email, a second vote, a key in use)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict"


def validation_errors(detail: Any, loc: list[str | int]) -> list[ValidationErrorItem]:
    """Flatten DRF's nested error detail (dicts and lists of ErrorDetail) into the contract's
    list of {loc, msg, type}; ``loc`` is where ``detail`` sits in the request."""
    if isinstance(detail, dict):
        errors: list[ValidationErrorItem] = []
        for field, sub in detail.items():
            sub_loc = loc if field in ("non_field_errors", "__all__") else [*loc, field]
            errors += validation_errors(sub, sub_loc)
        return errors
    if isinstance(detail, list):
        return [error for sub in detail for error in validation_errors(sub, loc)]
    code = getattr(detail, "code", None) or "value_error"
    if code == "required":
        return [{"loc": loc, "msg": "Field required", "type": "missing"}]
    return [{"loc": loc, "msg": str(detail), "type": code}]


def unprocessable(errors: list[ValidationErrorItem]) -> Response:
    """The 422 answer for a list of ``{"loc", "msg", "type"}`` errors."""
    return Response({"detail": errors}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)


def contract_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: the contract's answer for an exception raised in a view.

    Validation errors (and unreadable JSON) are 422 lists; both 401s carry
    ``WWW-Authenticate: Bearer``; Django's body limits are 413; DRF's and Django's default
    403/404/405 texts become the original API's. None (a 500, or a 503 for a database outage,
    answered outside DRF) for anything DRF does not handle either."""
    if isinstance(exc, exceptions.ValidationError):
        location = getattr(exc, "location", "body")
        return unprocessable(validation_errors(exc.detail, [location]))
    if isinstance(exc, exceptions.ParseError):
        return unprocessable([{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}])
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        message = NOT_AUTHENTICATED if isinstance(exc, exceptions.NotAuthenticated) else INVALID_CREDENTIALS
        return Response(
            {"detail": message},
            status=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Django refuses an oversized or abusive body while DRF parses it; unhandled, that would
    # be Django's HTML 400 page.
    if isinstance(exc, TOO_LARGE):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("Bad Request")
    if isinstance(exc, exceptions.MethodNotAllowed):
        exc = exceptions.MethodNotAllowed("", detail="Method Not Allowed")
    elif isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied) and (
        not isinstance(exc, exceptions.PermissionDenied)
        or exc.detail == exceptions.PermissionDenied.default_detail
    ):
        exc = NotOwner()
    elif isinstance(exc, Http404) or (
        isinstance(exc, exceptions.NotFound) and exc.detail == exceptions.NotFound.default_detail
    ):
        exc = exceptions.NotFound("Not Found")
    return exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 404 for paths no route matches."""
    return JsonResponse({"detail": "Not Found"}, status=404)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 400, for a suspicious request refused outside a DRF view."""
    if isinstance(exception, TOO_LARGE):
        return JsonResponse({"detail": PayloadTooLarge.default_detail}, status=413)
    return JsonResponse({"detail": "Bad Request"}, status=400)


def server_error(request: HttpRequest) -> JsonResponse:
    """Django's 500, for any exception nothing else handled; Django calls it while that
    exception is being handled, so a database outage can still be told apart (a 503)."""
    exc = sys.exception()
    if is_database_outage(exc):
        return database_unavailable(exc)
    return JsonResponse({"detail": "Internal Server Error"}, status=500)
