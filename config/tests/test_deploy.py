"""Production settings: Django's deployment checklist, the secret key, the HTTPS redirect."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DEBUG": "false", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deployment_checklist_is_clean_with_production_settings():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50), SECURE_SSL_REDIRECT="true",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "key",
    [
        "short-key",
        "a" * 60,
        "django-insecure-" + secrets.token_urlsafe(50),
    ],
    ids=["short", "repetitive", "django-insecure"],
)
def test_weak_secret_key_is_refused_without_debug(key):
    result = manage("check", SECRET_KEY=key)
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_secret_key_file_is_read_when_secret_key_is_empty(tmp_path):
    key = secrets.token_urlsafe(50)
    (tmp_path / "key").write_text(key + "\n")
    shown = manage(
        "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)",
        SECRET_KEY="", SECRET_KEY_FILE=str(tmp_path / "key"),
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == key
    # A weak key in the file is refused like any other.
    (tmp_path / "weak").write_text("local-trial-only-insecure-key-set-SECRET_KEY-in-.env")
    refused = manage("check", SECRET_KEY="", SECRET_KEY_FILE=str(tmp_path / "weak"))
    assert (
        refused.returncode != 0 and "SECRET_KEY is docker-compose.yml's former default key" in refused.stderr
    )


def test_missing_secret_key_file_is_named(tmp_path):
    missing = manage("check", SECRET_KEY="", SECRET_KEY_FILE=str(tmp_path / "absent"))
    assert missing.returncode != 0
    assert (
        f"SECRET_KEY_FILE='{tmp_path / 'absent'}' cannot be read (No such file or directory)"
        in missing.stderr
    )


def test_weak_secret_key_is_allowed_with_debug():
    assert manage("check", SECRET_KEY="short-key", DEBUG="true").returncode == 0


def test_https_redirect_spares_health(settings, api_client):
    settings.SECURE_SSL_REDIRECT = True
    response = api_client.get("/posts/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/posts/"
    for path in ("/health", "/health/"):
        assert api_client.get(path).status_code not in (301, 302, 307, 308), path
    secure = api_client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.parametrize(
    ("log_level", "request_level"),
    [("", "ERROR"), ("WARNING", "ERROR"), ("info", "INFO"), ("DEBUG", "DEBUG"), ("CRITICAL", "CRITICAL")],
)
def test_log_level_reaches_the_request_log_below_warning(log_level, request_level):
    """LOG_LEVEL sets Django's log level; its 4xx WARNING lines (django.request) are written only
    when LOG_LEVEL asks for INFO or DEBUG (at the default, only its errors)."""
    result = manage(
        "shell", "-c",
        "import logging; print(logging.getLevelName(logging.getLogger('django.request').getEffectiveLevel()))",
        SECRET_KEY=secrets.token_urlsafe(50), LOG_LEVEL=log_level,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == request_level
