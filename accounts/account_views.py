"""The caller's own account: read it, change its password, log out everywhere, delete it.

A password the caller must type (to change it or to delete the account) is a login in all but
name: a wrong one counts in the same per-address failed-login limit as ``POST /login``, so a
stolen access token cannot be used to guess the password at speed.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.request_types import AuthenticatedRequest
from accounts.serializers import PasswordChangeSerializer, PasswordSerializer, UserSerializer
from accounts.views import INVALID_CREDENTIALS
from api.endpoints import Endpoint, EndpointSchema
from api.openapi import error_responses
from api.throttling import LoginFailureThrottle, login_attempt

TOO_MANY_FAILURES = LoginFailureThrottle.message
# With EndpointSchema's 401 and 422.
PASSWORD_REFUSED = error_responses(403, 429, messages={403: INVALID_CREDENTIALS, 429: TOO_MANY_FAILURES})
SESSIONS_ENDED = "Every access and refresh token issued to the user so far stops working."


def confirm_password(request: Request, user: User, password: str) -> None:
    """Check the caller's password: 403 ``Invalid Credentials`` when wrong, 429 past the
    failed-login limit (LOGIN_FAILURE_RATE, per client address, shared with POST /login)."""
    attempt = login_attempt(request)
    if attempt.over_limit:
        raise Throttled(attempt.retry_after, detail=TOO_MANY_FAILURES)
    failed = not user.check_password(password)
    attempt.settle(failed=failed)
    if failed:
        raise PermissionDenied(INVALID_CREDENTIALS)


class BodyOnDeleteSchema(EndpointSchema):
    """drf-spectacular documents a request body for POST, PUT and PATCH only; DELETE /users/me
    takes one too (the password)."""

    def _get_request_body(self, direction: str = "request") -> dict | None:
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class CurrentUserView(Endpoint):
    """GET and DELETE /users/me: the caller's own account."""

    schema = BodyOnDeleteSchema()

    @extend_schema(
        summary="Get the caller",
        description="The caller's `User`.",
        responses={200: UserSerializer},
        tags=["Users"],
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Delete the caller's account",
        description="The account, its posts and its votes are deleted; the password confirms it. "
        + SESSIONS_ENDED,
        request=PasswordSerializer,
        responses={204: OpenApiResponse(description="The account is deleted."), **PASSWORD_REFUSED},
        tags=["Users"],
    )
    def delete(self, request: AuthenticatedRequest) -> Response:
        """204 once the account is deleted; 403 for a wrong password, 429 past the limit."""
        serializer = PasswordSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        confirm_password(request, request.user, serializer.validated_data["password"])
        # Posts and votes go with it (ON DELETE CASCADE); the vote triggers lower other posts' counts.
        request.user.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(Endpoint):
    """POST /users/me/password: change the caller's password."""

    @extend_schema(
        summary="Change the caller's password",
        description=SESSIONS_ENDED + " Log in again with the new password.",
        request=PasswordChangeSerializer,
        responses={204: OpenApiResponse(description="The password is changed."), **PASSWORD_REFUSED},
        tags=["Users"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """204 once changed; 403 for a wrong current password, 429 past the limit."""
        user = request.user
        serializer = PasswordChangeSerializer(data=self.body, context={"user": user})
        serializer.is_valid(raise_exception=True)
        confirm_password(request, user, serializer.validated_data["current_password"])
        user.set_password(serializer.validated_data["new_password"])
        # Only the password (and the security stamp, which save() adds): a concurrent change
        # by staff, such as deactivation, is not written back over.
        user.save(update_fields=["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(Endpoint):
    """POST /logout/all: end every session of the caller."""

    @extend_schema(
        summary="Log out everywhere",
        description=SESSIONS_ENDED,
        request=None,
        responses={204: OpenApiResponse(description="Every session is ended.")},
        tags=["Authentication"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """204 once every token of the caller is revoked."""
        request.user.end_all_sessions()
        return Response(status=status.HTTP_204_NO_CONTENT)
