"""CORS with CORS_ALLOWED_ORIGINS naming origins (the default, `*`, is in api/tests/test_errors.py)."""

import os
import subprocess
import sys

import pytest

from testing import REPO

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"


@pytest.fixture
def specific_origins(settings):
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [APP, "https://admin.example.com"]


def preflight(client, origin, method="PATCH", path="/posts/1"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_preflight_from_an_allowed_origin(api_client, specific_origins):
    response = preflight(api_client, APP)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= {
        h.strip() for h in response.headers["Access-Control-Allow-Headers"].lower().split(",")
    }
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_from_another_origin_gets_no_allowance(api_client, specific_origins):
    response = preflight(api_client, "https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_simple_request_echoes_only_an_allowed_origin(api_client, specific_origins, auth_client):
    assert auth_client.get("/posts/", HTTP_ORIGIN=APP).headers["Access-Control-Allow-Origin"] == APP
    assert (
        "Access-Control-Allow-Origin"
        not in auth_client.get("/posts/", HTTP_ORIGIN="https://x.example").headers
    )


def test_a_request_without_origin_gets_only_vary_origin(auth_client, specific_origins):
    # config/cors.py answers it without django-cors-headers' own path: the same headers.
    response = auth_client.get("/posts/", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-client-version")
    assert response.status_code == 200
    assert "origin" in [name.strip() for name in response.headers["Vary"].split(",")]
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_errors_carry_cors_headers_too(api_client, specific_origins):
    # A front end must be able to read a 401 to know it has to log in again.
    response = api_client.get("/users/me", HTTP_ORIGIN=APP)
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "True []"),
        ("*", "True []"),
        (f"{APP}, https://admin.example.com", f"False ['{APP}', 'https://admin.example.com']"),
    ],
)
def test_the_variable_is_read_as_documented(value, expected):
    code = "from django.conf import settings as s; print(s.CORS_ALLOW_ALL_ORIGINS, s.CORS_ALLOWED_ORIGINS)"
    env = {**os.environ, "CORS_ALLOWED_ORIGINS": value, "DJANGO_SETTINGS_MODULE": "config.settings"}
    output = subprocess.run(  # noqa: S603 (a fixed command)
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == expected
