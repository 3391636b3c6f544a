import pytest

from config.settings import database_from_env, mailer_from_env
from environment.variables import ConfigurationError


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DATABASE_URL", "DATABASE_HOSTNAME", "DATABASE_PORT", "DATABASE_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DATABASE_PASSWORD", raising=False)
    monkeypatch.delenv("DATABASE_NAME", raising=False)
    return monkeypatch


def test_database_url_wins(clean_env):
    clean_env.setenv("DATABASE_URL", "postgres://app:secret@db.example.com:6543/social")
    clean_env.setenv("DATABASE_HOSTNAME", "ignored.example.com")
    db = database_from_env()
    assert (db["HOST"], db["PORT"], db["USER"], db["PASSWORD"], db["NAME"]) == (
        "db.example.com",
        6543,
        "app",
        "secret",
        "social",
    )


def test_the_originals_database_variables_work(clean_env):
    # An existing .env of the original course API, as it is.
    for name, value in {
        "DATABASE_HOSTNAME": "localhost",
        "DATABASE_PORT": "5433",
        "DATABASE_USERNAME": "postgres",
        "DATABASE_PASSWORD": "password123",
        "DATABASE_NAME": "fastapi",
    }.items():
        clean_env.setenv(name, value)
    db = database_from_env()
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["USER"], db["PASSWORD"], db["NAME"]) == (
        "localhost",
        "5433",
        "postgres",
        "password123",
        "fastapi",
    )


def test_without_a_database_the_settings_say_what_to_do_instead_of_starting_one(clean_env):
    with pytest.raises(ConfigurationError) as refused:
        database_from_env()
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith("DATABASE_URL is not set: set it to a PostgreSQL server")
    assert "make run and make test" in line
    assert ".venv/bin/python -m devdb.embedded .venv/bin/python manage.py shell" in line


def test_mail_goes_through_smtp_from_the_email_variables(monkeypatch):
    for name, value in {
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "secret",
        "EMAIL_USE_TLS": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EMAIL_PORT", raising=False)
    assert mailer_from_env() == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": "smtp.example.com",
            "port": 587,
            "username": "mailer",
            "password": "secret",
            "use_tls": True,
            "timeout": 10,
        },
    }
    monkeypatch.setenv("EMAIL_PORT", "2525")
    assert mailer_from_env()["OPTIONS"]["port"] == 2525


def test_without_email_host_mail_goes_to_the_log(monkeypatch):
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    assert mailer_from_env() == {"BACKEND": "config.mail.LogEmailBackend"}
