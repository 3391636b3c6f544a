"""Datetimes go out as the original wrote them: ISO 8601 with the numeric offset `+00:00`,
never `Z` (which `datetime.fromisoformat` before Python 3.11 cannot read). The response check
in testing/plugin.py refuses a `Z` datetime in any response of any test; this pins the exact form."""

import re

import pytest

from testing.schema_check import SchemaMismatch, check

pytestmark = pytest.mark.django_db

ORIGINAL_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$")


def test_every_datetime_is_written_with_plus_00_00(api_client, auth_client, user, make_post):
    post = make_post()
    created = auth_client.post("/posts/", {"title": "t", "content": "c"}).json()
    datetimes = [
        api_client.post("/users/", {"email": "new@example.com", "password": "password123"}).json()[
            "created_at"
        ],
        api_client.get(f"/users/{user.pk}").json()["created_at"],
        auth_client.get("/users/me").json()["created_at"],
        created["created_at"],
        created["owner"]["created_at"],
        auth_client.get(f"/posts/{post.pk}").json()["Post"]["created_at"],
        auth_client.get("/posts/").json()[0]["Post"]["owner"]["created_at"],
        auth_client.put(f"/posts/{post.pk}", {"title": "t", "content": "c"}).json()["created_at"],
    ]
    assert all(ORIGINAL_FORM.match(value) for value in datetimes), datetimes


def test_the_response_check_refuses_a_z_datetime():
    body = b'{"id": 1, "email": "a@example.com", "created_at": "2026-11-27T02:45:25.512062Z"}'
    with pytest.raises(SchemaMismatch, match=r"\+00:00"):
        check("GET", "/users/1", 200, "application/json", body)
