import jwt
import pytest
from django.conf import settings

from testing.clients import login

pytestmark = pytest.mark.django_db


def test_login_returns_bearer_token_with_user_id(api_client, user):
    response = login(api_client, "owner@example.com", "password123")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], settings.SECRET_KEY, algorithms=["HS256"])
    assert int(claims["user_id"]) == user.pk
    assert claims["exp"] - claims["iat"] == 30 * 60


def test_login_accepts_urlencoded_form_and_both_spellings(api_client, user):
    for path in ("/login", "/login/"):
        response = api_client.post(
            path,
            "username=owner%40example.com&password=password123",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200


def test_login_email_is_case_insensitive(api_client, user):
    assert login(api_client, "OWNER@Example.com", "password123").status_code == 200


def test_token_opens_protected_routes(api_client, user):
    token = login(api_client, "owner@example.com", "password123").json()["access_token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"bearer {token}")
    assert api_client.get("/posts/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("owner@example.com", "wrong-pass"), ("nobody@example.com", "x")]
)
def test_bad_login_is_403_invalid_credentials(api_client, user, username, password):
    response = login(api_client, username, password)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid Credentials"}


def test_inactive_user_cannot_log_in(api_client, make_user):
    make_user("gone@example.com", is_active=False)
    assert login(api_client, "gone@example.com", "password123").status_code == 403


def test_login_with_json_body_is_refused(api_client, user):
    response = api_client.post(
        "/login", {"username": "owner@example.com", "password": "password123"}, format="json"
    )
    assert response.status_code == 415
    assert "access_token" not in response.json()


def test_login_missing_fields_is_422(api_client):
    response = api_client.post("/login", {}, format="multipart")
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [
        ["body", "username"],
        ["body", "password"],
    ]


def test_token_user_id_is_an_integer_as_in_the_original(api_client, user):
    body = login(api_client, "owner@example.com", "password123").json()
    for token in (body["access_token"], body["refresh_token"]):
        claims = jwt.decode(token, settings.SECRET_KEY, algorithms=["HS256"])
        assert claims["user_id"] == user.pk


def test_refreshed_token_keeps_an_integer_user_id(api_client, user):
    refresh = login(api_client, "owner@example.com", "password123").json()["refresh_token"]
    body = api_client.post("/login/refresh", {"refresh": refresh}, format="json").json()
    claims = jwt.decode(body["access_token"], settings.SECRET_KEY, algorithms=["HS256"])
    assert claims["user_id"] == user.pk
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api_client.get("/users/me").json()["id"] == user.pk
