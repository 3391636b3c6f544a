import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_signup_returns_user_without_password(api_client):
    response = api_client.post("/users/", {"email": "new@example.com", "password": "password123"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "created_at"}
    assert body["email"] == "new@example.com"
    user = User.objects.get(pk=body["id"])
    assert user.password != "password123"
    assert user.check_password("password123")


def test_signup_without_trailing_slash(api_client):
    response = api_client.post("/users", {"email": "new@example.com", "password": "password123"})
    assert response.status_code == 201


def test_signup_stores_email_lower_case(api_client):
    response = api_client.post("/users/", {"email": "Bob.Smith@Example.COM", "password": "password123"})
    assert response.status_code == 201
    assert response.json()["email"] == "bob.smith@example.com"
    assert User.objects.filter(email="bob.smith@example.com").exists()


def test_duplicate_email_is_409_whatever_the_case(api_client, user):
    response = api_client.post("/users/", {"email": "OWNER@example.com", "password": "password123"})
    assert response.status_code == 409
    assert "already" in response.json()["detail"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "password",
    ["", "short1", "12345678901", "owner@example.com"],
    ids=["empty", "too-short", "all-digits", "same-as-email"],
)
def test_weak_password_is_422(api_client, password):
    response = api_client.post("/users/", {"email": "owner@example.com", "password": password})
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert errors and all(error["loc"] == ["body", "password"] for error in errors)
    assert all(isinstance(error["msg"], str) and isinstance(error["type"], str) for error in errors)
    assert not User.objects.exists()


def test_password123_is_accepted(api_client):
    response = api_client.post("/users/", {"email": "sanjeev@gmail.com", "password": "password123"})
    assert response.status_code == 201


@pytest.mark.parametrize("email", ["not-an-email", "", "a@", 5, None])
def test_invalid_email_is_422(api_client, email):
    response = api_client.post("/users/", {"email": email, "password": "password123"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


def test_missing_fields_are_listed(api_client):
    response = api_client.post("/users/", {})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "email"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "password"], "msg": "Field required", "type": "missing"},
    ]


def test_staff_flags_in_body_are_ignored(api_client):
    response = api_client.post(
        "/users/",
        {
            "email": "x@example.com",
            "password": "password123",
            "is_staff": True,
            "is_superuser": True,
            "id": 999,
        },
    )
    assert response.status_code == 201
    user = User.objects.get(email="x@example.com")
    assert not user.is_staff and not user.is_superuser and user.pk != 999


def test_a_bad_email_is_reported_once(api_client):
    response = api_client.post("/users/", {"email": "notanemail", "password": "password123"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "email"], "msg": "Enter a valid email address.", "type": "invalid"}
    ]
