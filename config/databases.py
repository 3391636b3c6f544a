"""Django's DATABASES entries for config/settings.py, from the URLs it reads.

settings.py reads DATABASE_URL (else the original course API's DATABASE_* variables) and
DATABASE_REPLICA_URLS itself; these turn the values into Django's dicts. Nothing here starts a
server (config/embedded_db.py does, for make's commands). Every function raises
ConfigurationError (config/env.py) with one line naming the variable at fault.
"""

from typing import Any

import dj_database_url

from config.env import ConfigurationError

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


def replica_databases(
    urls: list[str],
    *,
    shared_cache: bool,
    pin_seconds: int,
    max_lag_seconds: int,
    transaction_pooling: bool,
    statement_timeout: int = 0,
) -> dict[str, DatabaseSettings]:
    """The read replicas' DATABASES entries, ``replica1``, ``replica2``... in the order of
    ``urls`` (DATABASE_REPLICA_URLS); none for no URLs.

    Raises ConfigurationError when replicas are named without a cache shared by every instance
    (``shared_cache``: REDIS_URL), which holds the pins of users who just wrote; when the lag
    allowed (seconds) is more than the pin (seconds), so a user could miss their own write; or
    for a URL that is not PostgreSQL's.
    """
    if not urls:
        return {}
    if not shared_cache:
        raise ConfigurationError(
            "DATABASE_REPLICA_URLS needs REDIS_URL: every instance must see which users just wrote "
            "(their reads stay on the primary for REPLICA_PIN_SECONDS)."
        )
    if max_lag_seconds > pin_seconds:
        raise ConfigurationError(
            f"REPLICA_MAX_LAG_SECONDS={max_lag_seconds} is more than REPLICA_PIN_SECONDS="
            f"{pin_seconds}: a user could miss their own write once the pin ends; lower it."
        )
    replicas = {}
    for number, url in enumerate(urls, start=1):
        replica = database_from_url("DATABASE_REPLICA_URLS", url)
        # A replica that does not answer is skipped: find out within 2 s, not libpq's forever.
        replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
        connection_settings(
            replica, transaction_pooling=transaction_pooling, statement_timeout=statement_timeout
        )
        # Tests run against one database: a replica alias is the same connection's data.
        replica["TEST"] = {"MIRROR": "default"}
        replicas[f"replica{number}"] = replica
    return replicas
