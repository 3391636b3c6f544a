"""The body size limit, and logins that cost the same whether or not the email exists."""

import json
import statistics
import time

import pytest
from django.conf import global_settings, settings

from config import settings as project_settings
from posts.models import Post

TOO_LARGE = {"detail": "Request body too large"}


@pytest.mark.django_db
def test_the_largest_valid_post_fits_under_the_body_limit(auth_client):
    # Every character of a maximal post sent as a surrogate-pair escape: 12 bytes each.
    raw = json.dumps({"title": "🎉" * 300, "content": "🎉" * 100_000})
    assert len(raw.encode()) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = auth_client.post("/posts/", raw, content_type="application/json")
    assert response.status_code == 201
    assert len(Post.objects.get().content) == 100_000


def test_a_body_over_the_limit_is_413_and_the_server_keeps_serving(server_without_database):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    json_body = json.dumps({"email": "a@example.com", "password": "x" * limit})
    form_body = "username=a%40example.com&password=" + "x" * limit
    for path, body, content_type in (
        ("/users/", json_body, "application/json"),
        ("/login", form_body, "application/x-www-form-urlencoded"),
        ("/users/", json.dumps(["x"] * (limit // 4)), "application/json"),
    ):
        status, headers, response = server_without_database.request(
            "POST", path, body, {"Content-Type": content_type}
        )
        assert (status, json.loads(response)) == (413, TOO_LARGE), path
        assert headers["Content-Type"] == "application/json"
    many_fields = "&".join(f"f{i}=x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    status, _, response = server_without_database.request(
        "POST", "/login", many_fields, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (status, json.loads(response)) == (413, TOO_LARGE)
    for _ in range(5):
        status, _, response = server_without_database.request("GET", "/")
        assert (status, json.loads(response)) == (200, {"message": "Hello World"})


def _login_seconds(client, username: str, password: str) -> tuple[float, int, dict]:
    start = time.perf_counter()
    response = client.post("/login", {"username": username, "password": password}, format="multipart")
    return time.perf_counter() - start, response.status_code, response.json()


@pytest.mark.slow  # times many logins with the production hasher
@pytest.mark.django_db
def test_unknown_email_and_wrong_password_take_the_same_time_and_answer(settings, api_client, make_user):
    # The real hasher: the suite's fast one would hide the difference this test is about.
    settings.PASSWORD_HASHERS = getattr(
        project_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS
    )
    settings.LOGIN_FAILURE_RATE = "1000/minute"  # this test makes 41 failed logins on purpose
    make_user("known@example.com")
    unknown, wrong = [], []
    _login_seconds(api_client, "known@example.com", "warm-up-password")
    for i in range(20):  # interleaved, so a busy moment of the machine hits both alike
        seconds, status, body = _login_seconds(api_client, f"nobody{i}@example.com", "password123")
        unknown.append(seconds)
        assert (status, body) == (403, {"detail": "Invalid Credentials"})
        seconds, status, body = _login_seconds(api_client, "known@example.com", f"wrong-password-{i}")
        wrong.append(seconds)
        assert (status, body) == (403, {"detail": "Invalid Credentials"})
    fast, slow = sorted([statistics.median(unknown), statistics.median(wrong)])
    assert slow < fast * 1.2, (
        f"unknown email {statistics.median(unknown):.3f}s, wrong password {statistics.median(wrong):.3f}s"
    )
