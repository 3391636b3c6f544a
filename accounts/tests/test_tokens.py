"""The token lifecycle: refresh tokens at login, rotation at /login/refresh, revocation at /logout."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tokens import RefreshToken

pytestmark = pytest.mark.django_db

INVALID = {"detail": "Could not validate credentials"}


def login(client, email="owner@example.com"):
    response = client.post("/login", {"username": email, "password": "password123"}, format="multipart")
    assert response.status_code == 200
    return response.json()


def refresh(client, token, path="/login/refresh"):
    return client.post(path, {"refresh": token})


def logout(client, token, path="/logout"):
    return client.post(path, {"refresh": token})


def assert_invalid(response):
    assert response.status_code == 401
    assert response.json() == INVALID
    assert response.headers["WWW-Authenticate"] == "Bearer"


def claims(token):
    return jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])


def test_login_answer_carries_a_refresh_token(api_client, user):
    body = login(api_client)
    assert set(body) == {"access_token", "token_type", "refresh_token"}
    assert body["token_type"] == "bearer"
    refresh_claims = claims(body["refresh_token"])
    assert refresh_claims["token_type"] == "refresh" and int(refresh_claims["user_id"]) == user.pk
    assert OutstandingToken.objects.filter(jti=refresh_claims["jti"], user=user).exists()


@pytest.mark.parametrize("path", ["/login/refresh", "/login/refresh/"])
def test_refresh_gives_a_new_pair(api_client, user, path):
    old = login(api_client)["refresh_token"]
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
    first = login(api_client)["refresh_token"]
    second = refresh(api_client, first).json()["refresh_token"]
    assert_invalid(refresh(api_client, first))
    assert refresh(api_client, second).status_code == 200
    assert BlacklistedToken.objects.filter(token__jti=claims(first)["jti"]).exists()


def test_logout_revokes_that_refresh_token_only(api_client, user):
    session_a = login(api_client)["refresh_token"]
    session_b = login(api_client)["refresh_token"]
    response = logout(api_client, session_a)
    assert response.status_code == 204
    assert response.content == b""
    assert_invalid(refresh(api_client, session_a))
    assert_invalid(logout(api_client, session_a))
    assert refresh(api_client, session_b).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer garbage", "Basic dXNlcjpwYXNz"])
def test_logout_needs_no_bearer_header(user, header):
    client = APIClient()
    token = login(client)["refresh_token"]
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    assert logout(client, token, "/logout/").status_code == 204


def test_refresh_token_is_not_an_access_token(api_client, user):
    token = login(api_client)["refresh_token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_invalid(api_client.get("/posts/"))
    assert_invalid(api_client.get("/users/me"))


def test_access_token_is_not_a_refresh_token(api_client, user):
    access = login(api_client)["access_token"]
    assert_invalid(refresh(api_client, access))
    assert_invalid(logout(api_client, access))


def test_refresh_does_not_accept_a_revoked_token_even_with_a_valid_bearer(api_client, user):
    body = login(api_client)
    logout(api_client, body["refresh_token"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert_invalid(refresh(api_client, body["refresh_token"]))


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
    assert_invalid(refresh(api_client, make_token(user)))
    assert_invalid(logout(api_client, make_token(user)))
    assert not BlacklistedToken.objects.exists()


def test_expired_refresh_token_is_401(api_client, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1) - settings.SIMPLE_JWT["LEEWAY"])
    assert_invalid(refresh(api_client, str(token)))


@pytest.mark.parametrize("change", ["delete", "deactivate"])
def test_refresh_token_of_a_user_who_is_gone_is_401(api_client, user, change):
    token = login(api_client)["refresh_token"]
    if change == "delete":
        user.delete()
    else:
        user.is_active = False
        user.save()
    assert_invalid(refresh(api_client, token))


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
