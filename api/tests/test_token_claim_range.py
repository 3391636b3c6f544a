"""Validly signed tokens whose time claims cannot be a date (past year 9999, huge, not a
number) are refused like any other bad token, wherever a token is read: 401, never a 500."""

import time

import jwt
import pytest
from django.conf import settings

from accounts.tokens import RefreshToken
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

INVALID = "Could not validate credentials"
BEARER = {"WWW-Authenticate": "Bearer"}
NOW = int(time.time())
# Past datetime's year 9999; past a C long; a float past any date; not a number at all.
OUT_OF_RANGE = [253_402_300_800, 2**70, 1e300, "soon"]


def signed(claims: dict) -> str:
    return jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")


def claims_of(token, **changes) -> dict:
    return {**token.payload, **changes}


@pytest.fixture(params=["exp", "iat", "nbf"])
def claim(request) -> str:
    return request.param


@pytest.mark.parametrize("value", OUT_OF_RANGE, ids=["year-10000", "2**70", "1e300", "text"])
def test_access_token_with_out_of_range_claim_is_401(api_client, user, claim, value):
    access = RefreshToken.for_user(user).access_token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed(claims_of(access, **{claim: value}))}")
    for path in ("/users/me", "/posts/"):
        assert_error(api_client.get(path), 401, INVALID, headers=BEARER)
    assert_error(api_client.post("/logout/all"), 401, INVALID, headers=BEARER)


@pytest.mark.parametrize("value", OUT_OF_RANGE, ids=["year-10000", "2**70", "1e300", "text"])
def test_refresh_token_with_out_of_range_claim_is_401(api_client, user, claim, value):
    refresh = RefreshToken.for_user(user)
    raw = signed(claims_of(refresh, **{claim: value}))
    for path in ("/login/refresh", "/logout"):
        assert_error(api_client.post(path, {"refresh": raw}, format="json"), 401, INVALID)
    # The session itself still works: nothing was revoked by the refused attempts.
    assert api_client.post("/login/refresh", {"refresh": str(refresh)}, format="json").status_code == 200
