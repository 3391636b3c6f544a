"""A database that cannot answer is a dependency down, not a bug: 503, not 500.

Every route that needs the database answers ``503 {"detail": "Database unavailable"}`` with
``Retry-After`` when PostgreSQL refuses or drops the connection, is shutting down or starting
up, cancels a statement (``statement_timeout``), or refuses a write because it is read-only
(a hot standby, or ``default_transaction_read_only``). Each failure is one log line, without a
traceback. Nothing needs resetting afterwards: Django discards a broken connection at the end
of the request and opens a new one on the next (``CONN_HEALTH_CHECKS``).
"""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from psycopg import errors as pg_errors

DATABASE_UNAVAILABLE = "Database unavailable"
# Seconds a client should wait before trying again: long enough for a restart or a failover
# to finish, short enough that a brief blip costs little.
RETRY_AFTER_SECONDS = 5

logger = logging.getLogger("outage.responses")


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether an exception means the database cannot serve the request right now.

    Django's ``OperationalError`` (psycopg's: connection refused or lost, admin shutdown,
    starting up, statement timeout, lock or resource limits, serialization failures) and
    ``InterfaceError`` (a closed connection) are; so is a write refused by a read-only
    database (SQLSTATE 25006, which psycopg files under ``InternalError``). Any other
    ``DatabaseError`` (a constraint, a bad query) is a bug, and stays a 500.
    """
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DatabaseError) and isinstance(exc.__cause__, pg_errors.ReadOnlySqlTransaction)


def database_unavailable(exc: BaseException | None = None) -> JsonResponse:
    """The 503 answer, logged as one warning line naming the cause (no traceback)."""
    if exc is not None:
        cause = exc.__cause__ or exc
        first_line = (str(cause).strip().splitlines() or [""])[0]
        logger.warning("database unavailable: %s: %s", type(cause).__name__, first_line)
    response = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Django logs every 5xx again, with the traceback of the exception being handled;
    # the line above already says all there is to say.
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own flag (log_response)
    return response
