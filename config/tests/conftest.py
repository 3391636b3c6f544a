import contextlib

import psycopg
import pytest
from django.conf import settings

from testing.databases import database_env
from testing.servers import gunicorn

UNMIGRATED = "test_unmigrated"


def server_connection() -> psycopg.Connection:
    """An autocommit connection to the test database's server, outside any test transaction."""
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
        password=db["PASSWORD"] or None, dbname="postgres", autocommit=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server_without_database():
    """gunicorn on a database without this project's tables: it starts (the database answers),
    and every query is an unexpected error (a 500).

    It serves the project's routes plus /leak (config/tests/leak_urls.py), whose error
    message quotes the request's password or token, as Python's own errors do.
    """
    with server_connection() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {UNMIGRATED}")
        admin.execute(f"CREATE DATABASE {UNMIGRATED}")
    try:
        env = database_env({**settings.DATABASES["default"], "NAME": UNMIGRATED})
        env["DJANGO_SETTINGS_MODULE"] = "config.tests.leak_settings"
        with gunicorn(env) as server:
            yield server
    finally:
        with server_connection() as admin, contextlib.suppress(psycopg.Error):
            admin.execute(f"DROP DATABASE IF EXISTS {UNMIGRATED} WITH (FORCE)")
