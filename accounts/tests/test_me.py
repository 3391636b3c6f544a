import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/users/me", "/users/me/"])
def test_me_is_the_callers_user(auth_client, user, other_user, path):
    response = auth_client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body == {"id": user.pk, "email": "owner@example.com", "created_at": body["created_at"]}


def test_me_follows_the_token_not_the_first_user(other_client, user, other_user):
    assert other_client.get("/users/me").json()["id"] == other_user.pk


def test_me_needs_a_token(api_client, user):
    response = api_client.get("/users/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_with_a_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    response = api_client.get("/users/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def test_user_ids_still_route_to_users_by_id(api_client, user):
    assert api_client.get(f"/users/{user.pk}").json()["email"] == user.email
    # Only the exact segment "me" is the caller; anything else is still a (bad) id.
    for bad in ("meh", "me2"):
        response = api_client.get(f"/users/{bad}")
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "id"]


@pytest.mark.parametrize("method", ["put", "patch"])
def test_me_cannot_be_replaced_or_patched(auth_client, method):
    response = getattr(auth_client, method)("/users/me")
    assert response.status_code == 405
