"""The read replicas' DATABASES entries for config/settings.py, from DATABASE_REPLICA_URLS.

Each replica is read like the primary (environment/databases.py) and checked against the
settings replicas need: a shared cache for the pins, and a lag allowed below the pin.
"""

from environment.databases import DatabaseSettings, connection_settings, database_from_url
from environment.variables import ConfigurationError


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
