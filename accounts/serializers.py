from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import User, UserManager
from config.fields import StrictCharField

PASSWORD_MAX_LENGTH = 128


class UserSerializer(serializers.ModelSerializer):
    """The contract's `User`: never a password or hash."""

    created_at = serializers.DateTimeField(source="date_joined", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "created_at"]
        read_only_fields = fields


class EmailField(StrictCharField, serializers.EmailField):
    pass


class SignupSerializer(serializers.Serializer):
    email = EmailField(max_length=254)
    password = StrictCharField(max_length=PASSWORD_MAX_LENGTH, write_only=True)

    def validate_email(self, value: str) -> str:
        return UserManager.normalize_email(value)

    def validate(self, attrs: dict) -> dict:
        candidate = User(email=attrs["email"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                {"password": list(exc.messages)}, code="password_rules"
            ) from exc
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
    refresh = StrictCharField(
        max_length=4096, allow_blank=True, help_text="A refresh token from /login or /login/refresh."
    )
