"""A per-user budget for the reads whose cost grows with the whole table, so that one account
cannot take the database from everyone else.

A list read is *expensive* when its cost grows with the number of posts rather than the page:

- a ``search`` the trigram index cannot serve: pg_trgm indexes runs of three letters or digits,
  so a search of one or two characters, or of punctuation only (``~``, ``%%%``), reads every
  title; a search holding such a run (``cat``, ``été``, ``C++ tips``) uses the index and is
  cheap;
- a ``skip`` past ``EXPENSIVE_SKIP`` (the database walks every row it skips; a ``cursor`` does
  not);
- ``Prefer: count=exact`` (a count of every matching post).

Each user may have ``EXPENSIVE_READS_IN_FLIGHT`` such reads in progress at once and
``EXPENSIVE_READ_RATE`` of them in a window; past either, 429 with ``Retry-After``. Ordinary
reads are not counted. Every statement is bounded besides (``DATABASE_STATEMENT_TIMEOUT``:
503 with ``Retry-After``; config/postgresql/base.py). The counts live in the shared cache (Redis
with ``REDIS_URL``, else each process counts its own) and fail open if it does not answer.
"""

import contextlib
import logging
import re
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from rest_framework.exceptions import Throttled

from api.throttling import FixedWindowLimit
from outage import cache as cache_outage

logger = logging.getLogger(__name__)

# Past this many skipped rows a page by offset counts as an expensive read.
EXPENSIVE_SKIP = 1000
# What pg_trgm can find in the index: three letters or digits in a row (\w, less "_").
TRIGRAM = re.compile(r"[^\W_]{3}")
TOO_MANY = (
    "Too many expensive reads (short searches, deep skips, exact counts); use a cursor or a longer search."
)
# An in-flight count outlives a killed worker by at most this long (seconds).
IN_FLIGHT_EXPIRY = 60

EXPENSIVE_READS = FixedWindowLimit("expensive-read", "EXPENSIVE_READ_RATE")


def is_expensive(*, search: str, skip: int, exact_count: bool) -> bool:
    """Whether a list read with these parameters costs in proportion to the table (see the
    module's docstring)."""
    return exact_count or skip > EXPENSIVE_SKIP or (bool(search) and not TRIGRAM.search(search))


@contextlib.contextmanager
def spend(user_id: int) -> Iterator[None]:
    """Hold one of the user's expensive reads for the ``with`` block. Raises DRF's Throttled
    (429 with ``Retry-After``) when the user has ``EXPENSIVE_READS_IN_FLIGHT`` in progress
    already, or has used ``EXPENSIVE_READ_RATE`` in this window."""
    key = f"expensive-reads-in-flight:{user_id}"
    try:
        cache.add(key, 0, timeout=IN_FLIGHT_EXPIRY)
        in_flight = cache.incr(key)
    except Exception:
        cache_outage.unavailable("expensive reads")
        in_flight = None
    try:
        if in_flight is not None and in_flight > settings.EXPENSIVE_READS_IN_FLIGHT:
            raise Throttled(1, detail=TOO_MANY)
        # Counted only once in progress: a read refused above spends none of the window.
        counted = EXPENSIVE_READS.count(f"user:{user_id}")
        if counted.over_limit:
            raise Throttled(counted.retry_after, detail=TOO_MANY)
        yield
    finally:
        if in_flight is not None:
            _release(key)


def _release(key: str) -> None:
    try:
        cache.decr(key)
    except Exception:  # expired or the cache is down: nothing left to release
        logger.debug("expensive reads: nothing to release for %s", key)
