"""Bearer-token authentication with the contract's two 401 answers.

No usable ``Authorization: Bearer`` header means "Not authenticated"; a token that is bad,
expired, tampered with, of the wrong type, or whose user is gone or inactive, or issued before
the user's sessions were ended (its security stamp is no longer the user's) means
"Could not validate credentials". The exception handler writes both with
``WWW-Authenticate: Bearer``.

With read replicas the user is read from the primary (a request with credentials reads nothing
from a replica before this), so a revoked or deleted account is refused at once.
"""

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import Token

from api.compiled import CompiledQuery
from replicas import router as db_router

if TYPE_CHECKING:
    # django-stubs' name for the class settings.AUTH_USER_MODEL names (its mypy plugin
    # resolves it): what get_user_model() returns instances of.
    from django.contrib.auth.models import _User

NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Could not validate credentials"
BIGINT_MAX = 2**63 - 1
# The claim holding the user's security stamp when the token was issued (accounts/tokens.py).
SECURITY_STAMP_CLAIM = "security_stamp"


class ClaimsInRangeMixin(Token):
    """A token whose time claims (``exp``, ``iat``, ``nbf``) cannot be read as a date is a bad
    token (TokenError), like any other: PyJWT checks a signed ``exp`` of year 10000 or 2**70
    and lets it through, and SimpleJWT's ``datetime_from_epoch`` then raises ValueError or
    OverflowError, which would be a 500."""

    def verify(self) -> None:
        """SimpleJWT's checks; raises TokenError for a claim out of a date's range too."""
        try:
            super().verify()
        except (OverflowError, ValueError, OSError, TypeError) as exc:
            raise TokenError("Token has a time claim out of range") from exc


class AccessToken(ClaimsInRangeMixin, simplejwt_tokens.AccessToken):
    """SimpleJWT's access token, read with its time claims checked for range."""


class CredentialsInvalid(exceptions.AuthenticationFailed):
    """A 401 "Could not validate credentials": a token that cannot be used, for any reason."""

    default_detail = INVALID_CREDENTIALS
    default_code = "invalid_token"


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access token>`` (any case of ``Bearer``), checked against the
    user's row: active, and holding the security stamp the token was issued with. The user is
    ``get_user_model()``'s (settings.AUTH_USER_MODEL), which must have a ``security_stamp``.

    DRF's BaseAuthentication with SimpleJWT's token classes: SimpleJWT's own
    ``JWTAuthentication`` reads the header and the user differently (its header types, its
    user lookup), and each of its steps would be replaced here anyway."""

    def authenticate(self, request: Request) -> "tuple[_User, AccessToken] | None":
        """(user, token) for a usable bearer token; None without one (DRF then answers 401
        "Not authenticated" where a user is needed); raises CredentialsInvalid (401) for any
        other token."""
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw_token = header.strip().partition(" ")
        raw_token = raw_token.strip()
        if scheme.lower() != "bearer" or not raw_token:
            return None  # DRF answers NotAuthenticated when the view needs a user
        try:
            token = AccessToken(raw_token)
        except TokenError as exc:
            raise CredentialsInvalid() from exc
        return self.get_user(token), token

    def get_user(self, validated_token: Token) -> "_User":  # access or refresh token
        """The token's active user holding its security stamp; raises CredentialsInvalid."""
        user_id = str(validated_token.get("user_id", ""))
        if not user_id.isascii() or not user_id.isdigit() or int(user_id) > BIGINT_MAX:
            raise CredentialsInvalid()
        user = active_user(int(user_id))
        if user is None:
            raise CredentialsInvalid()
        # Revocation: compared with the row just read, so it costs no query and holds at once
        # on every instance.
        if not constant_time_compare(str(validated_token.get(SECURITY_STAMP_CLAIM, "")), user.security_stamp):
            raise CredentialsInvalid()
        db_router.user_authenticated(user.pk)
        return user

    def authenticate_header(self, request: Request) -> str:
        """The ``WWW-Authenticate`` value of a 401."""
        return "Bearer"


#: The active user of an id, compiled from its QuerySet (api/compiled.py): this read runs on
#: every authenticated request.
ACTIVE_USER = CompiledQuery(
    lambda user_id: get_user_model()._default_manager.filter(pk=user_id, is_active=True), "user_id"
)


def active_user(user_id: int) -> "_User | None":
    """The active user of this id, or None: what
    ``get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()`` gives,
    read from the router's database (the primary, for a request with credentials)."""
    found = ACTIVE_USER.run(user_id=user_id)
    return found[0] if found else None
