"""Django's DATABASES entries for config/settings.py, from the URLs it reads.

settings.py reads DATABASE_URL (else the original course API's DATABASE_* variables) and
DATABASE_REPLICA_URLS itself; these turn the values into Django's dicts. Nothing here starts a
server (devdb/embedded.py does, for make's commands). Every function raises
ConfigurationError (environment/variables.py) with one line naming the variable at fault.
"""

from typing import Any

import dj_database_url

from environment.variables import ConfigurationError

#: A Django database settings dict (ENGINE, HOST, PORT, NAME, OPTIONS, ...).
type DatabaseSettings = dict[str, Any]

#: psycopg's default: a query is prepared on its 6th run on a connection.
PREPARE_THRESHOLD = 5
#: Django's PostgreSQL backend with a request's waits bounded (config/postgresql/base.py).
ENGINE = "config.postgresql"
#: Seconds libpq waits for a connection to open (its default waits for ever).
CONNECT_TIMEOUT = 3


def database_from_url(variable: str, url: str) -> DatabaseSettings:
    """Django's settings for a database URL; ConfigurationError naming ``variable`` if unusable."""
    if "://" not in url:
        raise ConfigurationError(
            f"{variable} has no scheme: write it as postgres://user:password@host:5432/name."
        )
    if url.split("://", 1)[0].lower() not in ("postgres", "postgresql", "pgsql"):
        raise ConfigurationError(
            f"{variable} names a {url.split('://', 1)[0]} database: only PostgreSQL is supported "
            "(postgres://user:password@host:5432/name)."
        )
    try:
        return dict(dj_database_url.parse(url))  # a plain dict, as the other sources give
    except ValueError as exc:
        raise ConfigurationError(f"{variable} cannot be used: {exc}") from None


def connection_settings(
    database: DatabaseSettings, *, transaction_pooling: bool, statement_timeout: int = 0
) -> DatabaseSettings:
    """``database``, changed in place and returned: persistent, health-checked connections (to
    PgBouncer too: a client connection to it is cheap, and it caps the server connections),
    opened within CONNECT_TIMEOUT seconds, and in a server process statements bounded to
    ``statement_timeout`` seconds (0: unbounded; config/postgresql/base.py).

    With ``transaction_pooling`` (PgBouncer's transaction mode: each transaction may run on
    another server connection) nothing may outlive a transaction: no server-side cursors (they
    live until closed) and no prepared statements (psycopg prepares a query on its 6th run, per
    server session).

    Otherwise queries are bound on the server and psycopg prepares a query on its 6th run on a
    connection (its default prepare_threshold, 5, which Django turns off unless OPTIONS sets it):
    PostgreSQL then plans it once per connection, which halves the database's CPU per list or
    get-one request (bench/RESULTS.md, "Levers")."""
    database["CONN_MAX_AGE"] = None
    database["CONN_HEALTH_CHECKS"] = True
    database["ENGINE"] = ENGINE
    database["STATEMENT_TIMEOUT"] = statement_timeout
    database["TRANSACTION_POOLING"] = transaction_pooling
    options = database.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", CONNECT_TIMEOUT)
    if transaction_pooling:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        options["prepare_threshold"] = None
    else:
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", PREPARE_THRESHOLD)
    return database
