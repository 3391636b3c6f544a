"""Django's PostgreSQL backend, with every wait of a request on the database bounded.

A database that is slow, or hung (paused, a network path that went silent), must turn into
503 answers within seconds, not requests that hang until the client gives up (outage/responses.py
answers the 503 for any of the errors below):

- connecting: libpq's ``connect_timeout`` (environment/databases.py sets it for every use);
- a statement: PostgreSQL's ``statement_timeout`` (``DATABASE_STATEMENT_TIMEOUT`` seconds), set
  as a startup option of each connection, so it costs no round trip; the server cancels the
  statement and the request is answered 503 with ``Retry-After``;
- a server that answers nothing at all (its statement timeout cannot fire): the client gives up
  on any wait that lasts a second past the statement timeout, closes the connection and raises
  OperationalError.

Only requests are bounded: ``config/wsgi.py`` and ``config/asgi.py`` call ``bound_requests()``.
Management commands (migrations building an index, the benchmark's seeding) run unbounded.
Behind PgBouncer in transaction pooling mode no startup option reaches the server: set
``statement_timeout`` on the database role there (docs/abuse.md); the client-side bound holds.

The health check of a persistent connection (``CONN_HEALTH_CHECKS``: Django's ``SELECT 1`` before
a request's first query) costs a round trip per request. Here a connection that passed a check
(or was opened) less than ``HEALTH_CHECK_INTERVAL`` seconds ago is only looked at: a server that
ends a session (a restart, ``pg_terminate_backend``, ``idle_session_timeout``, a proxy dropping
its connections) sends its reason or closes the socket, so there is something to read on an
idle connection, and then the full check runs. A connection idle for longer (a firewall may have
dropped it without a word) gets the full check, as before.
"""

import os
import select
import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import errors as pg_errors

# Seconds the client waits on a statement beyond the server's own statement timeout.
CLIENT_GRACE_SECONDS = 1.0
# Seconds after a connection's last full health check during which a quiet socket is enough.
HEALTH_CHECK_INTERVAL = 1.0

_requests_bounded = False


def bound_requests() -> None:
    """Apply the statement timeout and the client's bound to the connections this process
    opens from now on (a server process, before it serves)."""
    global _requests_bounded
    _requests_bounded = True


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's PostgreSQL DatabaseWrapper with the bounds of the module's docstring, read from
    the settings dict's ``STATEMENT_TIMEOUT`` (seconds; 0 or missing: unbounded) and
    ``TRANSACTION_POOLING`` keys (environment/databases.py)."""

    #: time.monotonic() of the connection's opening or its last full health check that passed.
    _checked_at = float("-inf")
    # Django's own attributes (BaseDatabaseWrapper), which django-stubs does not declare.
    health_check_enabled: bool
    health_check_done: bool

    def _statement_timeout(self) -> float:
        return float(self.settings_dict.get("STATEMENT_TIMEOUT") or 0) if _requests_bounded else 0.0

    def get_connection_params(self) -> dict[str, Any]:
        """Django's parameters, with ``statement_timeout`` as a startup option when bounded."""
        params = super().get_connection_params()
        seconds = self._statement_timeout()
        if seconds and not self.settings_dict.get("TRANSACTION_POOLING"):
            # libpq reads PGOPTIONS only when no options are given: keep what it holds.
            given = params.get("options") or os.environ.get("PGOPTIONS", "")
            params["options"] = f"{given} -c statement_timeout={int(seconds * 1000)}".strip()
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> psycopg.Connection:
        """Django's new connection, whose waits on the server end after the statement timeout
        and CLIENT_GRACE_SECONDS (when bounded)."""
        connection = super().get_new_connection(conn_params)
        seconds = self._statement_timeout()
        if seconds:
            _bound_waits(connection, seconds + CLIENT_GRACE_SECONDS)
        self._checked_at = time.monotonic()
        return connection

    def close_if_health_check_failed(self) -> None:
        """Django's health check (the connection closed unless ``SELECT 1`` answers), run at most
        once per HEALTH_CHECK_INTERVAL on a connection; in between, a connection with anything
        to read (the server ended the session) gets it too, a quiet one none."""
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if time.monotonic() - self._checked_at < HEALTH_CHECK_INTERVAL and _quiet(self.connection):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
        if self.connection is not None:
            self._checked_at = time.monotonic()


def _quiet(connection: psycopg.Connection) -> bool:
    """Whether the idle connection's socket has nothing to read (no message from the server, no
    end of the stream) and libpq holds it open."""
    try:
        socket = connection.pgconn.socket
    except psycopg.OperationalError:  # libpq has closed it
        return False
    poller = select.poll()
    poller.register(socket, select.POLLIN)
    return connection.pgconn.status == psycopg.pq.ConnStatus.OK and not poller.poll(0)


def _bound_waits(connection: psycopg.Connection, limit: float) -> None:
    """Make every wait of ``connection`` on its server (psycopg's ``Connection.wait``, which
    each query goes through) give up after ``limit`` seconds: the connection is closed (its
    state mid-query is unknown) and OperationalError raised."""
    wait = connection.wait

    def bounded_wait(gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            return wait(gen, interval=interval, timeout=timeout or limit)
        except pg_errors._WaitTimeout as exc:
            connection.pgconn.finish()
            raise psycopg.OperationalError(f"the database did not answer within {limit:g} s") from exc

    connection.wait = bounded_wait  # type: ignore[method-assign]
