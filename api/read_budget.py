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

Each user may have ``EXPENSIVE_READS_IN_FLIGHT`` such reads in progress at once, all users
together ``EXPENSIVE_READS_IN_FLIGHT_TOTAL``, and each user ``EXPENSIVE_READ_RATE`` of them in a
window; past any, 429 with ``Retry-After``. Ordinary reads are not counted. Every statement is
bounded besides (``DATABASE_STATEMENT_TIMEOUT``: 503 with ``Retry-After``;
config/postgresql/base.py). The reads in progress are advisory locks in PostgreSQL, so every
worker and server shares them; the window is counted in the shared cache (Redis with
``REDIS_URL``, else each process counts its own), which fails open if it does not answer.
"""

import contextlib
import re
from collections.abc import Iterator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from rest_framework.exceptions import Throttled

from api.throttling import FixedWindowLimit

# Past this many skipped rows a page by offset counts as an expensive read.
EXPENSIVE_SKIP = 1000
# What pg_trgm can find in the index: three letters or digits in a row (\w, less "_").
TRIGRAM = re.compile(r"[^\W_]{3}")
TOO_MANY = (
    "Too many expensive reads (short searches, deep skips, exact counts); use a cursor or a longer search."
)
EXPENSIVE_READS = FixedWindowLimit("expensive-read", "EXPENSIVE_READ_RATE")


def is_expensive(*, search: str, skip: int, exact_count: bool) -> bool:
    """Whether a list read with these parameters costs in proportion to the table (see the
    module's docstring)."""
    return exact_count or skip > EXPENSIVE_SKIP or (bool(search) and not TRIGRAM.search(search))


@contextlib.contextmanager
def spend(user_id: int) -> Iterator[None]:
    """Hold one of the user's expensive reads, and one of the server's, for the ``with`` block.
    Raises DRF's Throttled (429 with ``Retry-After``) when the user has
    ``EXPENSIVE_READS_IN_FLIGHT`` in progress already, when all users together have
    ``EXPENSIVE_READS_IN_FLIGHT_TOTAL``, or when the user has used ``EXPENSIVE_READ_RATE`` in
    this window.

    The reads in progress are PostgreSQL advisory locks of the primary database, so every worker
    and every server agrees on them with or without Redis. They are transaction-level
    (``pg_try_advisory_xact_lock``), taken in a transaction that spans the block: a commit, a
    rollback (an exception, a statement timeout) or a lost connection (a killed worker) releases
    them, so no persistent connection can keep one."""
    window = f"user:{user_id}"
    # A user past the window is refused before the database is asked anything: under a flood
    # of refused reads each costs one cache read.
    if (spent := EXPENSIVE_READS.check(window)).over_limit:
        raise Throttled(spent.retry_after, detail=TOO_MANY)
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(
                TAKE_SLOTS,
                [
                    settings.EXPENSIVE_READS_IN_FLIGHT,
                    USER_NAMESPACE,
                    _int4(user_id),
                    settings.EXPENSIVE_READS_IN_FLIGHT_TOTAL,
                    TOTAL_NAMESPACE,
                ],
            )
            user_slot, total_slot = cursor.fetchone()
        if not (user_slot and total_slot):
            raise Throttled(1, detail=TOO_MANY)
        # Counted only once in progress: a read refused above spends none of the window.
        counted = EXPENSIVE_READS.count(window)
        if counted.over_limit:
            raise Throttled(counted.retry_after, detail=TOO_MANY)
        yield


# Advisory lock keys (two int4s): the user's slots are (USER_NAMESPACE + n, user id), the
# server's (TOTAL_NAMESPACE, n). The first free slot is taken; EXISTS stops there.
USER_NAMESPACE = 0x45520000  # "ER", expensive reads; slot n adds n
TOTAL_NAMESPACE = 0x4552FFFF
TAKE_SLOTS = (
    "SELECT EXISTS (SELECT FROM generate_series(0, %s::int - 1) AS n "
    "WHERE pg_try_advisory_xact_lock(%s::int + n, %s::int)), "
    "EXISTS (SELECT FROM generate_series(0, %s::int - 1) AS n "
    "WHERE pg_try_advisory_xact_lock(%s::int, n))"
)


def _int4(number: int) -> int:
    """`number` folded into PostgreSQL's int4 (an advisory lock key's half)."""
    return (number + 2**31) % 2**32 - 2**31
