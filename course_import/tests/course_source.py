"""Databases like the original course API's (or empty ones), made on the server the tests use."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

# The original's schema (what its alembic migrations build) and sample rows, kept in the
# repository so that the tests depend on nothing outside it.
ORIGINAL_SCHEMA = Path(__file__).resolve().parent / "fixtures" / "original_schema.sql"


def _server_conninfo(dbname: str) -> str:
    settings = connection.settings_dict
    params = {"host": settings["HOST"], "port": settings["PORT"], "user": settings["USER"]}
    params["password"] = settings["PASSWORD"]
    return make_conninfo(dbname=dbname, **{k: str(v) for k, v in params.items() if v})


def source_url(dbname: str) -> str:
    """A postgresql:// URL for a database on the test server (a Unix socket works too)."""
    settings = connection.settings_dict
    query = {k: settings[k.upper()] for k in ("host", "port", "password") if settings[k.upper()]}
    return f"postgresql://{quote(settings['USER'])}@/{dbname}?{urlencode(query)}"


@contextmanager
def course_database(extra_sql: str = "", params: list | None = None) -> Iterator[str]:
    """Create the original's database (schema, sample rows, then extra_sql); yield its URL; drop it."""
    with empty_database() as url:
        with psycopg.connect(url) as db:
            db.execute(ORIGINAL_SCHEMA.read_text())
            if extra_sql:
                db.execute(extra_sql, params)
        yield url


@contextmanager
def empty_database() -> Iterator[str]:
    """Create an empty database on the test server; yield its URL; drop it."""
    # Named after the test database (test_postgres, or test_<name> when DATABASE_URL names <name>), plus a random part.
    dbname = f"{connection.settings_dict['NAME']}_course_{secrets.token_hex(4)}"
    admin = _server_conninfo(connection.settings_dict["NAME"])
    with psycopg.connect(admin, autocommit=True) as server:
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        yield source_url(dbname)
    finally:
        with psycopg.connect(admin, autocommit=True) as server:
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def source_rows(url: str) -> list[tuple]:
    """Everything the import reads, to show that the source is left as it was."""
    with psycopg.connect(url) as db:
        return [
            db.execute(
                sql.SQL("SELECT * FROM {} ORDER BY {}").format(sql.Identifier(table), sql.SQL(order))
            ).fetchall()
            for table, order in (("users", "1"), ("posts", "1"), ("votes", "1, 2"), ("alembic_version", "1"))
        ]
