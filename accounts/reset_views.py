"""POST /password-reset and POST /password-reset/confirm (docs/api.md, "Password reset")."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail, Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import password_reset
from accounts.models import User
from accounts.serializers import (
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ResetRequestedSerializer,
    check_password_rules,
)
from accounts.tasks import send_reset_mail
from api.endpoints import Endpoint
from api.errors import RequestValidationError
from api.openapi import error_responses
from api.throttling import PASSWORD_RESET_EMAILS, PasswordResetRateThrottle

SENT = "If that address has an account, a reset link has been sent"
TOO_MANY_FROM_ADDRESS = PasswordResetRateThrottle.message
TOO_MANY_FOR_EMAIL = "Too many password resets for this email address."
TOKEN_REFUSED = "Invalid or expired token"  # noqa: S105 (a message, not a secret)


class PasswordResetView(Endpoint):
    """POST /password-reset: mail a reset token to an address, if it has an account."""

    public = True
    # Every request counts, like a signup, so addresses cannot be tried at speed.
    throttle_classes = [PasswordResetRateThrottle]

    @extend_schema(
        summary="Ask for a password reset",
        description="Mails a one-time reset token to the address if it has an account. The answer "
        "is the same, in about the same time, whether or not it has one.",
        request=PasswordResetSerializer,
        responses={
            202: OpenApiResponse(
                ResetRequestedSerializer, examples=[OpenApiExample("Sent", value={"message": SENT})]
            ),
            **error_responses(429, messages={429: [TOO_MANY_FROM_ADDRESS, TOO_MANY_FOR_EMAIL]}),
        },
        tags=["Authentication"],
    )
    def post(self, request: Request) -> Response:
        """202 whether or not the address has an account; 429 past either limit."""
        serializer = PasswordResetSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        # Counted for every address alike, so a 429 says nothing about an account either.
        per_email = PASSWORD_RESET_EMAILS.count(email)
        if per_email.over_limit:
            raise Throttled(per_email.retry_after, detail=TOO_MANY_FOR_EMAIL)
        # Stored before the answer: a mail accepted here survives a restart of every process.
        send_reset_mail.enqueue(email)
        return Response({"message": SENT}, status=status.HTTP_202_ACCEPTED)


def _rules(password: str, user: User) -> None:
    check_password_rules(password, user, "new_password")


class PasswordResetConfirmView(Endpoint):
    """POST /password-reset/confirm: a new password for a reset token, which works once."""

    public = True

    @extend_schema(
        summary="Set a new password with a reset token",
        description="The token works once. Every access and refresh token issued to the user so far "
        "stops working.",
        request=PasswordResetConfirmSerializer,
        responses={204: OpenApiResponse(description="The password is changed.")},
        tags=["Authentication"],
    )
    def post(self, request: Request) -> Response:
        """204 once the password is changed; 422 for a bad token or a weak password."""
        serializer = PasswordResetConfirmSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            password_reset.confirm_reset(data["uid"], data["token"], data["new_password"], _rules)
        except password_reset.InvalidResetToken as exc:
            raise RequestValidationError(
                {"token": [ErrorDetail(TOKEN_REFUSED, code="invalid_token")]}
            ) from exc
        except serializers.ValidationError as exc:
            raise RequestValidationError(exc.detail) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
