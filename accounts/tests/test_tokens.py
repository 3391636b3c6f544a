"""The token lifecycle: refresh tokens at login, rotation at /login/refresh, revocation at /logout."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tokens import RefreshToken
from testing.assertions import assert_error
from testing.clients import login

pytestmark = pytest.mark.django_db

INVALID = "Could not validate credentials"
BEARER = {"WWW-Authenticate": "Bearer"}


def tokens(client, email="owner@example.com"):
    """A login's JSON body (access and refresh tokens); the login must succeed."""
    response = login(client, email)
    assert response.status_code == 200
    return response.json()


def refresh(client, token, path="/login/refresh"):
    return client.post(path, {"refresh": token})


def logout(client, token, path="/logout"):
    return client.post(path, {"refresh": token})


def claims(token):
    return jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])


def test_login_answer_carries_a_refresh_token(api_client, user):
    body = tokens(api_client)
    assert set(body) == {"access_token", "token_type", "refresh_token"}
    assert body["token_type"] == "bearer"
    refresh_claims = claims(body["refresh_token"])
    assert refresh_claims["token_type"] == "refresh" and int(refresh_claims["user_id"]) == user.pk
    assert OutstandingToken.objects.filter(jti=refresh_claims["jti"], user=user).exists()


@pytest.mark.parametrize("path", ["/login/refresh", "/login/refresh/"])
def test_refresh_gives_a_new_pair(api_client, user, path):
    old = tokens(api_client)["refresh_token"]
    response = refresh(api_client, old, path)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type"} and body["token_type"] == "bearer"
    assert claims(body["access_token"])["token_type"] == "access"
    assert claims(body["refresh_token"])["jti"] != claims(old)["jti"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    me = api_client.get("/users/me")
    assert me.status_code == 200 and me.json()["id"] == user.pk


def test_used_refresh_token_stops_working_and_the_new_one_works(api_client, user):
    first = tokens(api_client)["refresh_token"]
    second = refresh(api_client, first).json()["refresh_token"]
    assert_error(refresh(api_client, first), 401, INVALID, headers=BEARER)
    assert refresh(api_client, second).status_code == 200
    assert BlacklistedToken.objects.filter(token__jti=claims(first)["jti"]).exists()


def test_logout_revokes_that_refresh_token_only(api_client, user):
    session_a = tokens(api_client)["refresh_token"]
    session_b = tokens(api_client)["refresh_token"]
    response = logout(api_client, session_a)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(refresh(api_client, session_a), 401, INVALID, headers=BEARER)
    assert_error(logout(api_client, session_a), 401, INVALID, headers=BEARER)
    assert refresh(api_client, session_b).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer garbage", "Basic dXNlcjpwYXNz"])
def test_logout_needs_no_bearer_header(user, header):
    client = APIClient()
    token = tokens(client)["refresh_token"]
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert logout(client, token, "/logout/").status_code == 204


def test_refresh_token_is_not_an_access_token(api_client, user):
    token = tokens(api_client)["refresh_token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(api_client.get("/posts/"), 401, INVALID, headers=BEARER)
    assert_error(api_client.get("/users/me"), 401, INVALID, headers=BEARER)


def test_access_token_is_not_a_refresh_token(api_client, user):
    access = tokens(api_client)["access_token"]
    assert_error(refresh(api_client, access), 401, INVALID, headers=BEARER)
    assert_error(logout(api_client, access), 401, INVALID, headers=BEARER)


def test_refresh_does_not_accept_a_revoked_token_even_with_a_valid_bearer(api_client, user):
    body = tokens(api_client)
    logout(api_client, body["refresh_token"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert_error(refresh(api_client, body["refresh_token"]), 401, INVALID, headers=BEARER)


def forge(payload, key=None):
    return jwt.encode(payload, key or settings.SECRET_KEY, algorithm="HS256")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda user: "garbage",
        lambda user: "",
        lambda user: forge({"token_type": "refresh", "user_id": str(user.pk), "exp": 9999999999, "jti": "x"}),
        lambda user: forge(
            {"token_type": "refresh", "user_id": str(user.pk), "exp": 9999999999, "jti": "y"}, key="k" * 40
        ),
    ],
    ids=["garbage", "empty", "never-issued", "wrong-signature"],
)
def test_bad_refresh_token_is_401(api_client, user, make_token):
    assert_error(refresh(api_client, make_token(user)), 401, INVALID, headers=BEARER)
    assert_error(logout(api_client, make_token(user)), 401, INVALID, headers=BEARER)
    assert not BlacklistedToken.objects.exists()


def test_expired_refresh_token_is_401(api_client, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1) - settings.SIMPLE_JWT["LEEWAY"])
    assert_error(refresh(api_client, str(token)), 401, INVALID, headers=BEARER)


@pytest.mark.parametrize("change", ["delete", "deactivate"])
def test_refresh_token_of_a_user_who_is_gone_is_401(api_client, user, change):
    token = tokens(api_client)["refresh_token"]
    if change == "delete":
        user.delete()
    else:
        user.is_active = False
        user.save()
    assert_error(refresh(api_client, token), 401, INVALID, headers=BEARER)


@pytest.mark.parametrize(
    ("body", "loc"),
    [({}, ["body", "refresh"]), ({"refresh": 5}, ["body", "refresh"]), (None, ["body"])],
    ids=["missing", "number", "no-body"],
)
@pytest.mark.parametrize("path", ["/login/refresh", "/logout"])
def test_bad_body_is_422(api_client, path, body, loc):
    response = api_client.post(path, body) if body is not None else api_client.post(path)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


@pytest.mark.parametrize("path", ["/login/refresh", "/logout"])
def test_other_methods_are_405(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
