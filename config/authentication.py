"""Bearer-token authentication with the contract's two 401 answers.

No usable ``Authorization: Bearer`` header means "Not authenticated"; a token that is bad,
expired, tampered with, of the wrong type, or whose user is gone or inactive, or issued before
the user's sessions were ended (its security stamp is no longer the user's) means
"Could not validate credentials". The exception handler writes both with
``WWW-Authenticate: Bearer``.

With read replicas the user is read from the primary (a request with credentials reads nothing
from a replica before this), so a revoked or deleted account is refused at once.
"""

from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, Token

from accounts.models import User
from config import db_router

NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Could not validate credentials"
BIGINT_MAX = 2**63 - 1
# The claim holding the user's security stamp when the token was issued (accounts/tokens.py).
SECURITY_STAMP_CLAIM = "security_stamp"


class CredentialsInvalid(exceptions.AuthenticationFailed):
    default_detail = INVALID_CREDENTIALS
    default_code = "invalid_token"


class BearerTokenAuthentication(JWTAuthentication):
    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
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

    def get_user(self, validated_token: Token) -> User:  # an access or a refresh token
        user_id = str(validated_token.get("user_id", ""))
        if not user_id.isascii() or not user_id.isdigit() or int(user_id) > BIGINT_MAX:
            raise CredentialsInvalid()
        try:
            # get() rather than first(): no ORDER BY to build, on every authenticated request.
            user = User.objects.get(pk=int(user_id), is_active=True)
        except User.DoesNotExist as exc:
            raise CredentialsInvalid() from exc
        # Revocation: compared with the row just read, so it costs no query and holds at once
        # on every instance.
        if not constant_time_compare(str(validated_token.get(SECURITY_STAMP_CLAIM, "")), user.security_stamp):
            raise CredentialsInvalid()
        db_router.user_authenticated(user.pk)
        return user

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
