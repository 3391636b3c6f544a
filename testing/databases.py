"""The databases a child process (gunicorn, manage.py) is given in the tests: the test database,
as a DATABASE_URL or as the original's DATABASE_* variables, and the tests' Redis database."""

import os
import urllib.parse

import dj_database_url
from django.db import connection

# The Redis database the tests may use (flushed by the tests that use it).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/4"


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL naming the same database as Django's connection settings. A Unix-socket
    directory (the embedded server's HOST) goes into the host part percent-encoded."""
    user = urllib.parse.quote(settings_dict["USER"] or "", safe="")
    password = urllib.parse.quote(settings_dict["PASSWORD"] or "", safe="")
    host = urllib.parse.quote(settings_dict["HOST"] or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    credentials = f"{user}:{password}@" if password else f"{user}@"
    url = f"postgres://{credentials}{host}{port}/{urllib.parse.quote(settings_dict['NAME'], safe='')}"
    parsed = dj_database_url.parse(url)
    wanted = {key: str(settings_dict[key] or "") for key in ("HOST", "PORT", "NAME", "USER", "PASSWORD")}
    got = {key: str(parsed[key] or "") for key in wanted}
    if got != wanted:
        raise AssertionError(f"{url} parses as {got}, not {wanted}")
    return url


def database_env(settings_dict: dict | None = None) -> dict[str, str]:
    """The original's DATABASE_* variables for a database, by default the test database (a
    socket directory works as a host). DATABASE_URL is set and empty, so neither the caller's
    value nor a .env file applies."""
    db = settings_dict or connection.settings_dict
    return {
        "DATABASE_URL": "",
        "DATABASE_HOSTNAME": db["HOST"] or "127.0.0.1",
        "DATABASE_PORT": str(db["PORT"] or 5432),
        "DATABASE_USERNAME": db["USER"] or "postgres",
        "DATABASE_PASSWORD": db["PASSWORD"] or "",
        "DATABASE_NAME": db["NAME"],
    }
