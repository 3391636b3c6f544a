"""Which replicas may take reads: those that answer and lag at most ``REPLICA_MAX_LAG_SECONDS``.

Each process asks each replica at most once per ``REPLICA_CHECK_SECONDS`` (one short query on
the connection the reads use), so the cost is one query per replica per second per process,
not one per request. An answer older than that is not relied on: while one thread asks, the
others wait for its answer, or read from the primary if the replica was not usable before.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

# Where the replica is: what it received and replayed, and how long ago it replayed a commit.
POSITION_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_receive_lsn()::text,
       pg_last_wal_replay_lsn()::text,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
       EXISTS (SELECT FROM pg_stat_wal_receiver WHERE coalesce(status, 'streaming') = 'streaming'),
       extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
"""
# How long to watch a replica that looks behind before believing it.
RECHECK_SECONDS = 0.1
WAL_PAGE_BYTES = 8192  # PostgreSQL's XLOG_BLCKSZ, unchanged unless built otherwise

_lock = threading.Lock()
_checked_at: dict[str, float] = {}
_usable: dict[str, bool] = {}


@dataclass(frozen=True)
class Position:
    in_recovery: bool
    received: str | None
    replayed: str | None
    paused: bool
    streaming: bool
    since_commit: float | None  # seconds since the last replayed commit; None: none yet

    @property
    def applying(self) -> bool:
        return self.streaming and not self.paused


def lsn(text: str | None) -> int:
    """A WAL location (``'0/3114000'``) as a number; -1 for none."""
    if not text:
        return -1
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def position(alias: str) -> Position:
    """The replica's replication position. Raises DatabaseError when it does not answer."""
    with connections[alias].cursor() as cursor:
        cursor.execute(POSITION_SQL)
        row = cursor.fetchone()
    # The query's first five columns, then the seconds: mypy cannot count a slice's items.
    return Position(*row[:5], None if row[5] is None else float(row[5]))  # type: ignore[call-arg]


def replica_lag(alias: str, tolerated: float) -> float:
    """Seconds the replica's data is behind the primary's (``inf``: unknown), watched for
    RECHECK_SECONDS when it looks behind by more than ``tolerated``.

    Everything received and replayed, while streaming: 0. Otherwise, the time since the last
    replayed commit, which overstates the lag of an idle primary's replica: WAL that holds no
    commit (a standby snapshot, a pruned page) reaches the replica up to a page boundary and
    waits there, unreplayable, for the rest of its record. So a replica that looks behind is
    watched for RECHECK_SECONDS: if its positions stay still at a page boundary while it streams
    (nothing arrives, nothing it has can be applied), or it replays all it had received, it is
    not behind.
    Raises DatabaseError.
    """
    first = position(alias)
    if not first.in_recovery:  # promoted: it is a primary now
        return 0.0
    if first.applying and first.received == first.replayed:
        return 0.0
    if first.since_commit is not None and first.since_commit <= tolerated:
        return first.since_commit
    time.sleep(RECHECK_SECONDS)
    second = position(alias)
    # Idle: nothing arrived, and what came last was whole pages written in the background (a
    # commit flushes WAL to its own end, which is rarely a page boundary).
    idle = (second.received, second.replayed) == (first.received, first.replayed) and (
        lsn(second.received) % WAL_PAGE_BYTES == 0
    )
    if second.applying and (idle or lsn(second.replayed) >= lsn(first.received)):
        return RECHECK_SECONDS  # idle, or it applied all it had within the recheck
    return math.inf if second.since_commit is None else second.since_commit


def _check(alias: str) -> bool:
    try:
        lag = replica_lag(alias, settings.REPLICA_MAX_LAG_SECONDS)
    except DatabaseError:
        logger.warning("replicas: %s does not answer; reading from the primary", alias)
        connections[alias].close()
        return False
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning("replicas: %s lags %.1f s; reading from the primary", alias, lag)
        return False
    return True


def usable_replicas() -> list[str]:
    """The replica aliases reads may use now (possibly none)."""
    now = time.monotonic()
    usable = []
    for alias in settings.REPLICA_DATABASES:
        if now - _checked_at.get(alias, -math.inf) >= settings.REPLICA_CHECK_SECONDS:
            # Another thread may be asking it now. If it was usable, wait for the new answer
            # (usually a millisecond); if not (it may be a host that does not answer for
            # connect_timeout), read from the primary meanwhile.
            if not _lock.acquire(blocking=bool(_usable.get(alias))):
                continue
            try:
                if _checked_at.get(alias, -math.inf) <= now:  # nobody answered meanwhile
                    _usable[alias] = _check(alias)
                    _checked_at[alias] = time.monotonic()
            finally:
                _lock.release()
        if _usable.get(alias):
            usable.append(alias)
    return usable


def mark_unusable(alias: str) -> None:
    """A read on the replica failed: skip it until its next check."""
    _usable[alias] = False
    _checked_at[alias] = time.monotonic()
    connections[alias].close()
