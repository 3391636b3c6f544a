"""The refresh-token lifecycle: issue a pair at login, rotate on refresh, revoke on logout.

SimpleJWT's blacklist app keeps the records (every refresh token issued is an
``OutstandingToken``; a used or revoked one also has a ``BlacklistedToken``). Its own
``blacklist()`` checks and then inserts (``get_or_create``), so concurrent refreshes of one
token can all pass. Here the insert alone decides: ``BlacklistedToken.token`` is unique, so of
any number of concurrent uses of one refresh token exactly one insert commits and the others
get an ``IntegrityError``.
"""

from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from config.authentication import BearerTokenAuthentication, CredentialsInvalid


def issue_pair(user: User) -> dict[str, str]:
    """The token answer: a new access token and a new refresh token for the user."""
    refresh = RefreshToken.for_user(user)
    # An integer, as the original API wrote it (SimpleJWT writes a string): a front end that
    # compares the token's user_id with a post's owner_id keeps working. The access token
    # below copies it.
    refresh[api_settings.USER_ID_CLAIM] = user.pk
    return {
        "access_token": str(refresh.access_token),
        "token_type": "bearer",
        "refresh_token": str(refresh),
    }


def _valid_refresh_token(raw: str) -> RefreshToken:
    """The refresh token, if well formed, signed by us, unexpired and not yet used or revoked."""
    try:
        return RefreshToken(raw)  # also refuses an access token (wrong type) and blacklisted ones
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


def rotate(raw: str) -> dict[str, str]:
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
