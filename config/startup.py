"""One line on stderr and a non-zero exit, not a traceback, for a mistake in the configuration.

Used by ``manage.py`` (every command) and by gunicorn before it forks its workers
(``gunicorn.conf.py``'s ``on_starting``), so ``make run``, ``migrate`` and the image's server
all say the same thing: which variable is wrong, and what to do about it.
"""

import errno
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from django.core.exceptions import ImproperlyConfigured

from environment.variables import warn_misspelt_names

EXIT_CONFIGURATION = 1


def database_variables() -> str:
    """The variable(s) that chose the database, as an operator would look for them (settings
    refuse to load without one; the embedded PostgreSQL comes as DATABASE_URL too)."""
    if not os.environ.get("DATABASE_URL", "").strip() and os.environ.get("DATABASE_HOSTNAME", "").strip():
        return "DATABASE_HOSTNAME/PORT/USERNAME/PASSWORD/NAME"
    return "DATABASE_URL"


# Fragments of libpq's messages, what each means in the operator's terms, and the fix.
_DATABASE_FAULTS = (
    ("password authentication failed", "the password was refused", "check the password in {var}"),
    ("no password supplied", "the server wants a password", "add the password to {var}"),
    ('" does not exist', None, "check the names in {var}, or create what is missing (createdb, createuser)"),
    (
        "connection refused",
        "nothing listens there",
        "check the host and port in {var}, and that PostgreSQL runs",
    ),
    ("resolve host", "the host name is not known", "check the host name in {var}"),
    ("translate host name", "the host name is not known", "check the host name in {var}"),
    ("timeout expired", "no answer in time", "check the host and port in {var}"),
    ("timed out", "no answer in time", "check the host and port in {var}"),
)


def _database_fault(message: str) -> tuple[str, str | None, str] | None:
    lowered = message.lower()
    return next((fault for fault in _DATABASE_FAULTS if fault[0] in lowered), None)


def explain_database_error(exc: BaseException) -> str:
    """One line naming the server tried, what went wrong, the variable, and the fix."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = (
        f"{db.get('USER') or '?'}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')}"
    )
    message = " ".join(str(exc).split())
    variables = database_variables()
    fault = _database_fault(message)
    if fault is None:
        return f"Cannot connect to PostgreSQL at {where}: {message}. Check {variables}."
    _, what, fix = fault
    if what is None:  # libpq's own words name the missing database or role
        what = message.rpartition("FATAL:")[2].strip()
    return f"Cannot connect to PostgreSQL at {where}: {what}. Fix: {fix.format(var=variables)}."


def explain(exc: BaseException) -> str | None:
    """One line for a configuration mistake, or None for anything else (a real bug)."""
    import psycopg
    from django.db import OperationalError

    if isinstance(exc, ImproperlyConfigured):
        return " ".join(str(exc).split())
    if isinstance(exc, OperationalError | psycopg.OperationalError):
        message = str(exc)
        if "connect" in message.lower() or _database_fault(message):
            return explain_database_error(exc)
    return None


def exit_with(line: str) -> NoReturn:
    """Print ``error: <line>`` on stderr and exit non-zero."""
    print(f"error: {line}", file=sys.stderr)
    sys.exit(EXIT_CONFIGURATION)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn a configuration mistake raised inside the block into one line and an exit;
    let anything else (a bug, a command's own error) through untouched."""
    try:
        yield
    except Exception as exc:
        line = explain(exc)
        if line is None:
            raise
        exit_with(line)


def check_ports_free(addresses: Sequence[object]) -> None:
    """Exit with one line when a (host, port) to bind is taken (``make run`` twice).

    Gunicorn would retry for 5 s and then print "Can't connect to (...)". Unix sockets and
    addresses handed over by a re-executing master (GUNICORN_FD) are left to gunicorn.
    """
    if os.environ.get("GUNICORN_FD") or os.environ.get("LISTEN_FDS"):
        return
    for address in addresses:
        if not (isinstance(address, tuple) and len(address) == 2):
            continue
        host, port = address
        family = socket.AF_INET6 if ":" in str(host) else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                exit_with(
                    f"Port {port} on {host} is already in use (another `make run`?): stop that "
                    f"server, or serve on another port, e.g. PORT={port + 1} make run (or set GUNICORN_BIND)."
                )


# Faults that waiting cannot cure: the server answered and refused, or the name is unknown.
_PERMANENT = ("password", "does not exist", "resolve host", "translate host name")


def database_in_use() -> str:
    """Which database the settings name, in words, without its password: what a misspelt
    variable would otherwise change silently (e.g. to the embedded database)."""
    from django.conf import settings

    if settings.EMBEDDED_DATABASE:
        return "the embedded PostgreSQL in .local/pgdata"
    db = settings.DATABASES["default"]
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    return f"{db.get('NAME')} on {where} as {db.get('USER')} (from {database_variables()})"


def check_before_serving(addresses: Sequence[object]) -> None:
    """Gunicorn's master, before it binds and forks: the port is free, the settings load, and
    the database accepts these credentials. Each failure is one line and exit status 1.

    A database that does not answer at all (refused, timed out) may be starting or down for a
    moment: that is one warning line, and the server starts anyway, answering 503 until the
    database is back (/health says so too), as a running server does in an outage.
    """
    check_ports_free(addresses)
    warn_misspelt_names()
    with one_line_errors():
        import django
        from django.db import OperationalError, connections

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        try:
            connections["default"].ensure_connection()
            print(f"database: {database_in_use()}", file=sys.stderr)
        except OperationalError as exc:
            if any(fragment in str(exc).lower() for fragment in _PERMANENT):
                raise
            print(f"database: {database_in_use()}", file=sys.stderr)
            print(
                f"warning: {explain_database_error(exc)} Serving anyway: 503 until it answers.",
                file=sys.stderr,
            )
        finally:
            # Workers open their own connections; none may inherit this one across fork().
            connections.close_all()
