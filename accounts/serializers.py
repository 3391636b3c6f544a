from collections.abc import Callable
from functools import cache
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from accounts.models import User, UserManager
from api.fields import StrictCharField
from api.representation import representation_writer

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
# The password rules that a schema can state, so that clients see them in /openapi.json; the
# others (not too similar to the email) are checked in validate().
# Searched, not matched whole (RegexValidator, and an OpenAPI pattern): some character is not a
# digit. NUL is refused by the field itself (DRF's CharField), as in every text field.
NOT_ONLY_DIGITS = RegexValidator(r"\D", "This password is entirely numeric.", code="password_rules")


class UserSerializer(serializers.ModelSerializer):
    """The contract's `User`: never a password or hash."""

    # Text, not drf-spectacular's `format: email`: the address is one signup accepted by its
    # pattern (EMAIL_PATTERN, Django's rules), which validators of the "email" format do not
    # all accept (a local part over 64 characters).
    email = serializers.CharField(read_only=True, label="Email address")
    created_at = serializers.DateTimeField(source="date_joined", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "created_at"]
        read_only_fields = fields

    def to_representation(self, instance: User) -> dict[str, Any]:
        """The declared fields' output through a writer made from them once per process
        (``representation_writer``, as for posts): no ModelSerializer field building per answer."""
        return _user_writer()(instance)


@cache
def _user_writer() -> Callable[[Any], dict[str, Any]]:
    return representation_writer(UserSerializer())


# Django's email rules in a form a schema can carry, so that what /openapi.json calls an email
# and what signup accepts are the same set: a dot-atom local part, and a domain whose labels
# are letters and digits (of any script: an internationalized domain, as the original
# accepted, or its xn-- form) with inner hyphens, ending in a name of letters. Surrounding
# whitespace is allowed and trimmed (UserManager.normalize_email).
EMAIL_PATTERN = RegexValidator(
    r"^\s*[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*"
    r"@([^\W_](([^\W_]|-){0,61}[^\W_])?\.)+([^\W\d_]{2,63}|[Xx][Nn]--[A-Za-z0-9-]{1,59})\s*$",
    "Enter a valid email address.",
    code="invalid",
)


def check_password_rules(password: str, user: User, field: str) -> None:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS: length, digits, similarity to
    the email) for a user's new password; a 422 at ``["body", field]`` when it breaks one."""
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({field: list(exc.messages)}, code="password_rules") from exc


def password_field(**kwargs: Any) -> StrictCharField:
    """A new password: the rules a schema can state (the rest: ``check_password_rules``)."""
    return StrictCharField(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        validators=[NOT_ONLY_DIGITS],
        write_only=True,
        **kwargs,
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A new account", value={"email": "alice@example.com", "password": "a long pass phrase"}
        )
    ]
)
class SignupSerializer(serializers.Serializer):
    # The pattern alone: Django's EmailValidator on top would report each bad address twice.
    email = StrictCharField(max_length=254, validators=[EMAIL_PATTERN])
    password = password_field()

    def validate_email(self, value: str) -> str:
        return UserManager.normalize_email(value)

    def validate(self, attrs: dict) -> dict:
        check_password_rules(attrs["password"], User(email=attrs["email"]), "password")
        return attrs


class LoginSerializer(serializers.Serializer):
    """The OAuth2 password form: `username` holds the email."""

    username = StrictCharField(max_length=254)
    password = StrictCharField(max_length=PASSWORD_MAX_LENGTH)


class TokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    refresh_token = serializers.CharField(
        help_text="Exchange at /login/refresh for a new pair; revoke at /logout."
    )


class RefreshSerializer(serializers.Serializer):
    # A pasted token often brings a newline or spaces: trimmed, as the header's is (CONTRACT §1).
    refresh = StrictCharField(
        max_length=4096,
        allow_blank=True,
        trim_whitespace=True,
        help_text="A refresh token from /login or /login/refresh.",
    )


class PasswordChangeSerializer(serializers.Serializer):
    """``POST /users/me/password``; the user is ``context["user"]``."""

    current_password = StrictCharField(max_length=PASSWORD_MAX_LENGTH, write_only=True)
    new_password = password_field()

    def validate(self, attrs: dict) -> dict:
        check_password_rules(attrs["new_password"], self.context["user"], "new_password")
        return attrs


class PasswordSerializer(serializers.Serializer):
    """``DELETE /users/me``: the password confirms it is the user."""

    password = StrictCharField(max_length=PASSWORD_MAX_LENGTH, write_only=True)


class PasswordResetSerializer(serializers.Serializer):
    # Surrounding whitespace is trimmed (docs/api.md, "Input").
    email = StrictCharField(max_length=254, trim_whitespace=True, validators=[EMAIL_PATTERN])

    def validate_email(self, value: str) -> str:
        return UserManager.normalize_email(value)


class PasswordResetConfirmSerializer(serializers.Serializer):
    """The ``uid`` and ``token`` from the reset mail, and the new password (its rules that
    depend on the user are checked once the token names one)."""

    # Blank is allowed so that an empty one is refused as every wrong one is: at `token`.
    # Both are pasted from a mail: surrounding whitespace is trimmed (CONTRACT §1).
    uid = StrictCharField(
        max_length=64, allow_blank=True, trim_whitespace=True, help_text="The `uid` from the reset mail."
    )
    token = StrictCharField(
        max_length=128,
        allow_blank=True,
        trim_whitespace=True,
        write_only=True,
        help_text="The `token` from the reset mail.",
    )
    new_password = password_field()


class ResetRequestedSerializer(serializers.Serializer):
    """The answer to a password-reset request, the same whether or not the address has an account."""

    message = serializers.CharField()
