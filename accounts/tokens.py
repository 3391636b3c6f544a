"""The refresh-token lifecycle: issue a pair at login, rotate on refresh, revoke on logout.

SimpleJWT's blacklist app keeps the records (every refresh token issued is an
``OutstandingToken``; a used or revoked one also has a ``BlacklistedToken``). Its own
``blacklist()`` checks and then inserts (``get_or_create``), so concurrent refreshes of one
token can all pass. Here the insert alone decides: ``BlacklistedToken.token`` is unique, so of
any number of concurrent uses of one refresh token exactly one insert commits and the others
get an ``IntegrityError``.

Every token carries the user's security stamp (``User.security_stamp``); authentication
refuses a token whose stamp is no longer the user's (api/authentication.py).
"""

from typing import Literal, Self, TypedDict

from django.db import IntegrityError, transaction
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from api.authentication import (
    SECURITY_STAMP_CLAIM,
    BearerTokenAuthentication,
    ClaimsInRangeMixin,
    CredentialsInvalid,
)


class StampedTokenMixin(ClaimsInRangeMixin, simplejwt_tokens.Token):
    """``for_user`` writes the user id as an integer, as the original API did (SimpleJWT writes
    a string: a front end comparing it with a post's ``owner_id`` would break), and the user's
    security stamp. A token whose time claims are out of a date's range is refused
    (ClaimsInRangeMixin)."""

    @classmethod
    # Narrower than SimpleJWT's (any user): tokens are issued only for this project's User,
    # whose security stamp they carry.
    def for_user(cls, user: User) -> Self:  # type: ignore[override]
        token = super().for_user(user)
        token[api_settings.USER_ID_CLAIM] = user.pk
        token[SECURITY_STAMP_CLAIM] = user.security_stamp
        return token


class AccessToken(StampedTokenMixin, simplejwt_tokens.AccessToken):
    """An access token for a user, with the claims above."""


# for_user's User is narrower than BlacklistMixin's user, as above.
class RefreshToken(StampedTokenMixin, simplejwt_tokens.RefreshToken):  # type: ignore[misc]
    """A refresh token (recorded as outstanding), with the claims above; its ``access_token``
    copies them."""

    access_token_class = AccessToken


class TokenAnswer(TypedDict):
    """The body of a 200 from /login and /login/refresh: docs/api.md, "Routes": ``Token`` with
    ``refresh_token``. The tokens are encoded JWTs; the schema serves it as TokenSerializer."""

    access_token: str
    token_type: Literal["bearer"]
    refresh_token: str


def issue_pair(user: User) -> TokenAnswer:
    """The token answer: a new access token and a new refresh token for the user."""
    refresh = RefreshToken.for_user(user)
    return {
        "access_token": str(refresh.access_token),
        "token_type": "bearer",
        "refresh_token": str(refresh),
    }


def _valid_refresh_token(raw: str) -> RefreshToken:
    """The refresh token, if well formed, signed by us, unexpired and not yet used or revoked."""
    try:
        # SimpleJWT annotates the encoded token as a Token; it takes the encoded str (or bytes).
        # Also refuses an access token (wrong type) and blacklisted ones.
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise CredentialsInvalid() from exc


def _revoke(token: RefreshToken) -> None:
    """Mark the token used. Of concurrent calls for one token exactly one returns; the rest, and
    any later call, raise CredentialsInvalid."""
    # Every refresh token this server issued was recorded when it was issued.
    outstanding = OutstandingToken.objects.filter(jti=token[api_settings.JTI_CLAIM]).first()
    if outstanding is None:
        raise CredentialsInvalid()
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as exc:
        raise CredentialsInvalid() from exc


def rotate(raw: str) -> TokenAnswer:
    """Exchange a refresh token for a new pair; the one given stops working."""
    token = _valid_refresh_token(raw)
    # The user must still exist and be active, exactly as for an access token.
    user = BearerTokenAuthentication().get_user(token)
    with transaction.atomic():
        _revoke(token)
        return issue_pair(user)


def revoke(raw: str) -> None:
    """Log out the session this refresh token belongs to; other sessions are untouched."""
    _revoke(_valid_refresh_token(raw))
