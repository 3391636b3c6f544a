"""Which replicas may take reads: those that answer and lag at most ``REPLICA_MAX_LAG_SECONDS``.

Each process asks each replica at most once per ``REPLICA_CHECK_SECONDS`` (one short query on
the connection the reads use), so the cost is one query per replica per second per process,
not one per request. While one thread asks, the others use the last answer.
"""

import logging
import math
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

# Seconds since the last transaction replayed, or 0 when the replica has applied all it received
# from a primary it still streams from: an idle primary sends nothing, and the replay timestamp
# then ages without any lag. Not in recovery (a promoted server): no lag. The receiver's status
# is hidden from roles without pg_read_all_stats; a hidden status counts as streaming.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
         AND EXISTS (SELECT FROM pg_stat_wal_receiver WHERE coalesce(status, 'streaming') = 'streaming')
        THEN 0
    ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 'Infinity')
END
"""

_lock = threading.Lock()
_checked_at: dict[str, float] = {}
_usable: dict[str, bool] = {}


def replica_lag(alias: str) -> float:
    """The replica's lag in seconds (``inf`` if it never replayed anything).

    Raises DatabaseError when it does not answer.
    """
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def _check(alias: str) -> bool:
    try:
        lag = replica_lag(alias)
    except DatabaseError:
        logger.warning("replicas: %s does not answer; reading from the primary", alias)
        connections[alias].close()
        return False
    if math.isinf(lag) or lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning("replicas: %s lags %.1f s; reading from the primary", alias, lag)
        return False
    return True


def usable_replicas() -> list[str]:
    """The replica aliases reads may use now (possibly none)."""
    now = time.monotonic()
    for alias in settings.REPLICA_DATABASES:
        due = now - _checked_at.get(alias, -math.inf) >= settings.REPLICA_CHECK_SECONDS
        if due and _lock.acquire(blocking=alias not in _usable):
            try:
                _usable[alias] = _check(alias)
                _checked_at[alias] = time.monotonic()
            finally:
                _lock.release()
    return [alias for alias in settings.REPLICA_DATABASES if _usable.get(alias)]


def mark_unusable(alias: str) -> None:
    """A read on the replica failed: skip it until its next check."""
    _usable[alias] = False
    _checked_at[alias] = time.monotonic()
    connections[alias].close()
