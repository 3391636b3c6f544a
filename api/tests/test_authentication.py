from datetime import timedelta

import jwt
import pytest
from django.conf import settings

from accounts.tokens import AccessToken
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

NOT_AUTHENTICATED = "Not authenticated"
INVALID = "Could not validate credentials"
BEARER = {"WWW-Authenticate": "Bearer"}


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_no_bearer_header_is_not_authenticated(api_client, header):
    if header is not None:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(api_client.get("/posts/"), 401, NOT_AUTHENTICATED, headers=BEARER)


def test_scheme_word_is_case_insensitive(api_client, user):
    for scheme in ("bearer", "BEARER", "Bearer"):
        api_client.credentials(HTTP_AUTHORIZATION=f"{scheme} {AccessToken.for_user(user)}")
        assert api_client.get("/posts/").status_code == 200


def forge(claims, key=None, algorithm="HS256"):
    return jwt.encode(claims, key or settings.SECRET_KEY, algorithm=algorithm)


@pytest.mark.parametrize(
    "make_token",
    [
        lambda user: "garbage",
        lambda user: "a.b.c",
        lambda user: forge(
            {"user_id": str(user.pk), "token_type": "access", "exp": 9999999999}, key="x" * 40
        ),
        lambda user: jwt.encode(
            {"user_id": str(user.pk), "token_type": "access", "exp": 9999999999}, None, "none"
        ),
        lambda user: forge({"user_id": str(user.pk), "token_type": "access", "exp": 1}),
        lambda user: forge({"user_id": str(user.pk), "token_type": "refresh", "exp": 9999999999, "jti": "x"}),
        lambda user: forge({"user_id": "abc", "token_type": "access", "exp": 9999999999, "jti": "x"}),
        lambda user: forge({"user_id": "9" * 30, "token_type": "access", "exp": 9999999999, "jti": "x"}),
        lambda user: forge({"token_type": "access", "exp": 9999999999, "jti": "x"}),
    ],
    ids=[
        "garbage",
        "not-base64",
        "wrong-signature",
        "alg-none",
        "expired",
        "refresh-token",
        "non-integer-user",
        "huge-user-id",
        "no-user",
    ],
)
def test_bad_token_is_could_not_validate(api_client, user, make_token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user)}")
    assert_error(api_client.get("/posts/"), 401, INVALID, headers=BEARER)


def test_expired_access_token_is_refused(api_client, user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1) - settings.SIMPLE_JWT["LEEWAY"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error(api_client.get("/posts/"), 401, INVALID, headers=BEARER)


def test_token_of_deleted_user_is_401_on_reads_and_writes(auth_client, user, make_post):
    post = make_post()
    user.delete()
    assert_error(auth_client.get("/posts/"), 401, INVALID, headers=BEARER)
    assert_error(auth_client.get(f"/posts/{post.pk}"), 401, INVALID, headers=BEARER)
    assert_error(auth_client.post("/posts/", {"title": "t", "content": "c"}), 401, INVALID, headers=BEARER)
    assert_error(auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}), 401, INVALID, headers=BEARER)


def test_token_of_deactivated_user_is_401(auth_client, user):
    user.is_active = False
    user.save()
    assert_error(auth_client.get("/posts/"), 401, INVALID, headers=BEARER)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/posts/"),
        ("post", "/posts/"),
        ("get", "/posts/1"),
        ("put", "/posts/1"),
        ("delete", "/posts/1"),
        ("patch", "/posts/1"),
        ("post", "/vote/"),
    ],
)
def test_protected_routes_need_a_token_before_the_body(api_client, method, path):
    response = getattr(api_client, method)(path)
    assert_error(response, 401, NOT_AUTHENTICATED, headers=BEARER)
