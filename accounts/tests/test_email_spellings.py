"""Addresses as people type them: surrounding whitespace, internationalized domains (typed in
Unicode or in their xn-- form), composed or decomposed letters, any case; a login typed with decomposed letters. Signup, login, the
duplicate check and /users/me all agree on one stored form."""

import unicodedata

import pytest

from accounts.models import User
from testing import PASSWORD
from testing.clients import login

pytestmark = pytest.mark.django_db


def signup(client, email):
    return client.post("/users/", {"email": email, "password": PASSWORD}, format="json")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("omar@example.com ", "omar@example.com"),
        ("\t Omar@Example.com\n", "omar@example.com"),
        ("pia@bücher.example", "pia@bücher.example"),
        ("Pia@BÜCHER.example", "pia@bücher.example"),
        ("pia@xn--bcher-kva.example", "pia@bücher.example"),
        ("ivan@пример.рф", "ivan@пример.рф"),
        ("ivan@xn--e1afmkfd.xn--p1ai", "ivan@пример.рф"),
        ("li@例子.中国", "li@例子.中国"),
    ],
)
def test_signup_accepts_and_stores_one_form(api_client, typed, stored):
    response = signup(api_client, typed)
    assert response.status_code == 201, response.content
    assert response.json()["email"] == stored
    assert User.objects.get().email == stored


@pytest.mark.parametrize(
    "spelling",
    [" pia@bücher.example", "PIA@BÜCHER.EXAMPLE", "pia@xn--bcher-kva.example", "pia@XN--BCHER-KVA.example "],
)
def test_every_spelling_logs_in_and_is_a_duplicate(api_client, spelling):
    assert signup(api_client, "pia@bücher.example").status_code == 201
    response = login(api_client, spelling)
    assert response.status_code == 200, response.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    assert api_client.get("/users/me").json()["email"] == "pia@bücher.example"
    assert signup(api_client, spelling).status_code == 409
    assert User.objects.count() == 1


def test_decomposed_letters_log_in_as_the_composed_address(api_client):
    assert signup(api_client, "pia@bücher.example").status_code == 201
    assert login(api_client, unicodedata.normalize("NFD", "pia@bücher.example")).status_code == 200


@pytest.mark.parametrize(
    "email",
    [
        "pia@bücher",
        "pia@-bücher.example",
        "pia@bücher-.example",
        "pi a@example.com",
        "pia@bü_cher.example",
        " ",
    ],
)
def test_still_invalid(api_client, email):
    response = signup(api_client, email)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]
