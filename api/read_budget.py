"""A per-user budget for the reads whose cost grows with the whole table, so that one account
cannot take the database from everyone else.

A list read is *expensive* when its cost grows with the number of rows rather than the page:

- a ``search`` the trigram index cannot serve: pg_trgm indexes runs of three letters or digits,
  so a search of one or two characters, or of punctuation only (``~``, ``%%%``), reads every
  title; a search holding such a run (``cat``, ``été``, ``C++ tips``) uses the index;
- a ``skip`` past ``EXPENSIVE_SKIP`` (the database walks every row it skips; a ``cursor`` does
  not), on any list that takes one (posts, a post's comments, followers, following);
- ``Prefer: count=exact`` (a count of every matching row), on the same lists.

Each user may have ``EXPENSIVE_READS_IN_FLIGHT`` such reads in progress at once, all users
together ``EXPENSIVE_READS_IN_FLIGHT_TOTAL``, and each user ``EXPENSIVE_READ_RATE`` of them in a
window; past any, 429 with ``Retry-After``. A search the index serves is not expensive, but its
cost still grows with how many titles hold its trigrams (two common words that never meet read
both words' lists: 40 to 100 ms at a million posts), so it holds one of the user's reads in
progress too (a second one at once is 429), and nothing of the window or of the cap across
users. Ordinary reads are not counted. Every statement is bounded besides
(``DATABASE_STATEMENT_TIMEOUT``: 503 with ``Retry-After``; config/postgresql/base.py).

Counting reads does not bound their time: one user's reads one after another, each refused
while another is in progress, still keep a core busy all the time. So the time of these reads
(searches and expensive reads) is a budget too, as GitHub's secondary limit bounds the CPU
time of a user's requests: over any stretch of time, a user's take at most
``EXPENSIVE_READ_SHARE`` percent of it, plus a burst of BURST seconds' worth. It is kept as
the time until which the user's reads so far have paid (a generic cell rate algorithm): each
read of ``t`` seconds moves it ``t x 100 / EXPENSIVE_READ_SHARE`` seconds on from now or from
where it was, whichever is later, and a read is refused (429 with ``Retry-After``) while it lies
more than BURST seconds ahead. A read under FREE seconds (a search the index serves well) is
not written down. The time is kept per row of the user's (a slot's, their searches' of the
primary: SEARCH_ROW), and what the rows have paid for ahead of now is summed
(``api_read_time_ahead``, in api/migrations/0005_read_time_ahead_plpgsql.py).

Everything is counted in PostgreSQL, so every worker and every server agrees without Redis:
the reads in progress are advisory locks, the window and the time a row per user and slot
(``ExpensiveReadWindow``). A search on the primary takes its slot in its own statement
(``search_guard``), so it needs no transaction around it; one on a replica, and every
expensive read, hold theirs in a transaction of the primary (``spend``). See docs/abuse.md.
"""

import contextlib
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router, transaction
from django.db.models import BooleanField, Func, Value
from rest_framework.exceptions import Throttled

from api.models import ExpensiveReadWindow
from api.throttling import FixedWindowLimit, limit_refused, parse_rate
from replicas.router import lock_only_transaction

# Past this many skipped rows a page by offset counts as an expensive read.
EXPENSIVE_SKIP = 1000
# What pg_trgm can find in the index: three letters or digits in a row (\w, less "_").
TRIGRAM = re.compile(r"[^\W_]{3}")
TOO_MANY = (
    "Too many expensive reads (short searches, deep skips, exact counts); use a cursor or a longer search."
)
SEARCH_IN_PROGRESS = "Another search of yours is in progress; send the next one when it has answered."
PAUSED = "Your searches and expensive reads have taken their share of the database for now."
SCOPE = "expensive-read"  # the limit's name in the metrics (observability.metrics)
# Seconds of the time budget a user may run ahead of it (see the module's docstring).
BURST = 1.0
# Seconds: a read shorter than this is not charged to the time budget (nothing is written).
FREE = 0.002


def is_expensive(*, search: str = "", skip: int = 0, exact_count: bool = False) -> bool:
    """Whether a list read with these parameters costs in proportion to the table (see the
    module's docstring)."""
    return exact_count or skip > EXPENSIVE_SKIP or (bool(search) and not TRIGRAM.search(search))


def for_list(
    user_id: int, *, search: str = "", skip: int = 0, exact_count: bool = False
) -> AbstractContextManager[None]:
    """What a list read with these parameters spends, for a ``with`` around the whole read (its
    page and its count): an expensive one ``spend(user_id)``, any other search
    ``spend(user_id, expensive=False)``, anything else nothing."""
    if is_expensive(search=search, skip=skip, exact_count=exact_count):
        return spend(user_id)
    if search:
        # The search's statement takes the slot where it runs: on the primary, or in a
        # transaction of the primary when the search reads a replica (replicas/router.py).
        if router.db_for_read(ExpensiveReadWindow) == DEFAULT_DB_ALIAS:
            return search_on_primary(user_id)
        return spend(user_id, expensive=False)
    return contextlib.nullcontext()


# SQLSTATEs api_take_search_slot raises (api/migrations/0004_search_slot.py): every read of the
# user's in progress; the user's reads paid for more than BURST seconds ahead (DETAIL: how many).
SLOTS_TAKEN = "ER409"
PAID_AHEAD = "ER429"
# The row of ExpensiveReadWindow a search on the primary charges its time to: no slot's (they
# are below EXPENSIVE_READS_IN_FLIGHT), so the charge, made once the search's statement has
# ended, never waits on an expensive read that holds its slot's row in its transaction.
SEARCH_ROW = 2**31 - 1
# What search_guard's condition takes: nothing (``slots`` 0) unless search_on_primary is in force.
_NO_GUARD: dict[str, Any] = {"slot_key": 0, "slots": 0, "reader": 0, "burst": None}
_guard: ContextVar[dict[str, Any]] = ContextVar("search_guard", default=_NO_GUARD)


def search_guard(slot_key: int, slots: int, reader: int, burst: float | None) -> "TakeSearchSlot":
    """The condition a search's statement adds to its WHERE: true, once the statement holds one
    of the reads in progress of the user `reader` (whose advisory lock key is `slot_key`: see
    ``_int4``) and their reads have not paid more than `burst` seconds ahead (SQLSTATE
    SLOTS_TAKEN or PAID_AHEAD otherwise), checked once per statement before any row is read
    (PostgreSQL runs the uncorrelated sub-select as a one-time filter). With `slots` 0 it takes
    nothing. Its values come from ``search_guard_values()``."""
    return TakeSearchSlot(Value(USER_NAMESPACE), Value(slot_key), Value(slots), Value(reader), Value(burst))


class TakeSearchSlot(Func):
    """``(SELECT api_take_search_slot(...))`` (api/migrations/0004_search_slot.py): a
    sub-select, so that PostgreSQL calls the function once, before the rows, not per row."""

    template = "(SELECT %(function)s(%(expressions)s))"
    function = "api_take_search_slot"
    output_field = BooleanField()


def search_guard_values() -> dict[str, Any]:
    """search_guard's values for the search in progress: those of
    search_on_primary's block, else ones that take nothing."""
    return _guard.get()


@contextlib.contextmanager
def search_on_primary(user_id: int) -> Iterator[None]:
    """For a ``with`` around a search of the primary whose statement holds ``search_guard``:
    the statement takes one of the user's reads in progress for as long as it runs (its own
    transaction, as for ``spend``: a transaction-level advisory lock) and checks the user's
    time budget, with no statement of its own; the block's time is charged after, failed or
    not. Raises DRF's Throttled (429 with ``Retry-After``) as ``spend(expensive=False)`` does:
    SEARCH_IN_PROGRESS when every slot of the user's is held, PAUSED when the user's reads have
    paid for their time more than BURST seconds ahead."""
    budgeted = _time_is_budgeted()
    if budgeted and (wait := _known_busy(user_id)):
        raise Throttled(wait, detail=PAUSED)
    values = {
        "slot_key": _int4(user_id),
        "slots": settings.EXPENSIVE_READS_IN_FLIGHT,
        "reader": user_id,
        "burst": BURST,
    }
    token = _guard.set(values if budgeted else {**values, "burst": None})
    started = time.perf_counter()
    # Outside a transaction (as a request runs) the statement is its own; inside one, a
    # savepoint keeps a refusal from aborting it.
    in_transaction = connections[DEFAULT_DB_ALIAS].in_atomic_block
    try:
        with transaction.atomic(using=DEFAULT_DB_ALIAS) if in_transaction else contextlib.nullcontext():
            yield
    except DatabaseError as error:
        state = getattr(error.__cause__, "sqlstate", None)
        if state == SLOTS_TAKEN:
            limit_refused.send(sender=FixedWindowLimit, limit=SCOPE)
            raise Throttled(1, detail=SEARCH_IN_PROGRESS) from None
        if state == PAID_AHEAD:
            limit_refused.send(sender=FixedWindowLimit, limit=SCOPE)
            ahead = float(error.__cause__.diag.message_detail)  # type: ignore[union-attr]
            raise Throttled(_busy_for(user_id, ahead), detail=PAUSED) from None
        with contextlib.suppress(DatabaseError):  # the search's own error is the one to tell
            _charge(user_id, SEARCH_ROW, time.perf_counter() - started)
        raise
    finally:
        _guard.reset(token)
    _charge(user_id, SEARCH_ROW, time.perf_counter() - started)


@contextlib.contextmanager
def spend(user_id: int, *, expensive: bool = True) -> Iterator[None]:
    """Hold one of the user's reads in progress for the ``with`` block, and when `expensive`
    one of the server's and one of the user's window; charge the block's time to the user's
    time budget. Raises DRF's Throttled (429 with ``Retry-After``) when the user's reads have
    paid for their time more than BURST seconds ahead, when the user has
    ``EXPENSIVE_READS_IN_FLIGHT`` in progress already, when all users together have
    ``EXPENSIVE_READS_IN_FLIGHT_TOTAL``, or when the user has used ``EXPENSIVE_READ_RATE`` in
    this window.

    The reads in progress are PostgreSQL advisory locks of the primary database, so every worker
    and every server agrees on them with or without Redis. They are transaction-level
    (``pg_try_advisory_xact_lock``), taken in a transaction that spans the block: a commit, a
    rollback or a lost connection (a killed worker) releases them, so no persistent connection
    can keep one. The window is a row per user and slot, counted in that transaction once the
    slots are taken (a read refused for them spends nothing of it); the block runs in a
    savepoint, so a read that fails (a statement timeout) still counts, and its error is raised
    once the count is committed. A search runs in no savepoint (one statement fewer); when it
    fails, its time is charged once its transaction is rolled back."""
    window = _window() if expensive else None
    # Refused before the database is asked anything: under a flood of refused reads each costs
    # a dictionary look-up.
    if _time_is_budgeted() and (wait := _known_busy(user_id)):
        raise Throttled(wait, detail=PAUSED)
    if window is not None and (wait := _known_over(user_id, window)):
        raise Throttled(wait, detail=TOO_MANY)
    failure: Exception | None = None
    failed_search: float | None = None  # its time, charged once its transaction is rolled back
    try:
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                if window is None:
                    cursor.execute(
                        TAKE_USER_SLOT,
                        [settings.EXPENSIVE_READS_IN_FLIGHT, USER_NAMESPACE, _int4(user_id), user_id],
                    )
                    slot, ahead = cursor.fetchone()
                    total_slot = True
                else:
                    cursor.execute(
                        TAKE_SLOTS,
                        [
                            settings.EXPENSIVE_READS_IN_FLIGHT,
                            USER_NAMESPACE,
                            _int4(user_id),
                            settings.EXPENSIVE_READS_IN_FLIGHT_TOTAL,
                            TOTAL_NAMESPACE,
                            user_id,
                        ],
                    )
                    slot, total_slot, ahead = cursor.fetchone()
                if ahead is not None and ahead > BURST and _time_is_budgeted():
                    # Rolled back with the transaction: the slots are free again at once.
                    limit_refused.send(sender=FixedWindowLimit, limit=SCOPE)
                    raise Throttled(_busy_for(user_id, ahead), detail=PAUSED)
                if slot is None or not total_slot:
                    limit_refused.send(sender=FixedWindowLimit, limit=SCOPE)
                    raise Throttled(1, detail=TOO_MANY if expensive else SEARCH_IN_PROGRESS)
                if window is not None:
                    # One core per expensive read: PostgreSQL's parallel workers (2 by default) would
                    # let the one read the cap across users lets through take every core. And at
                    # most EXPENSIVE_READ_TIMEOUT seconds of it.
                    cursor.execute(LIMIT_READ, [_timeout()])
                    start, end, rate = window
                    cursor.execute(COUNT, [user_id, slot, start, user_id, start])
                    (used,) = cursor.fetchone()
                    if used > rate:
                        # Rolled back with the transaction: a refused read spends nothing.
                        wait = _over(user_id, end)
                        limit_refused.send(sender=FixedWindowLimit, limit=SCOPE)
                        raise Throttled(wait, detail=TOO_MANY)
            started = time.perf_counter()
            if window is None:
                # The search itself may read from a replica (replicas/router.py): the transaction
                # only holds the slot. A search that fails rolls it all back, and is charged after.
                try:
                    with lock_only_transaction():
                        yield
                except Exception:
                    failed_search = time.perf_counter() - started
                    raise
                _charge(user_id, slot, time.perf_counter() - started)
            else:
                try:
                    with transaction.atomic(using=DEFAULT_DB_ALIAS):
                        yield
                except Exception as error:  # rolled back to the savepoint: the count above is kept
                    failure = error
                _charge(user_id, slot, time.perf_counter() - started)
    finally:
        if failed_search is not None:
            with contextlib.suppress(DatabaseError):  # the search's own error is the one to tell
                _charge(user_id, slot, failed_search)

    if failure is not None:
        raise failure


def _time_is_budgeted() -> bool:
    """Whether reads' time is budgeted: EXPENSIVE_READ_SHARE below 100 percent (at 100 a user's
    reads may take all of the time, and nothing is charged or refused for it)."""
    return settings.EXPENSIVE_READ_SHARE < 100


def _timeout() -> str:
    """The statement timeout of an expensive read: the lower of EXPENSIVE_READ_TIMEOUT and
    DATABASE_STATEMENT_TIMEOUT (0: not set), as PostgreSQL's setting ("1s", "0": none)."""
    bounds = [s for s in (settings.EXPENSIVE_READ_TIMEOUT, settings.DATABASE_STATEMENT_TIMEOUT) if s]
    return f"{min(bounds)}s" if bounds else "0"


def _charge(user_id: int, slot: int, took: float) -> None:
    """Charge a read of `took` seconds on the user's `slot` to their time budget, in the
    transaction in progress if there is one (see the module's docstring)."""
    if took < FREE or not _time_is_budgeted():
        return
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(CHARGE, [user_id, slot, _window()[0], took * 100 / settings.EXPENSIVE_READ_SHARE])
        (ahead,) = cursor.fetchone()
    _busy_for(user_id, ahead)


def _window() -> tuple[int, float, int]:
    """EXPENSIVE_READ_RATE's window now: (its number, seconds since the epoch // the period;
    when it ends, in seconds since the epoch; the reads it allows)."""
    rate = parse_rate(settings.EXPENSIVE_READ_RATE)
    number = int(time.time() // rate.period)
    return number, (number + 1) * rate.period, rate.limit


# The users this process has seen past their window, until when (seconds since the epoch).
_past_window: dict[int, float] = {}
_past_window_lock = threading.Lock()


# Until when (seconds since the epoch) the users this process has seen have paid for their
# reads' time: past BURST ahead of now, their reads are refused here.
_busy_until: dict[int, float] = {}


def _known_busy(user_id: int) -> int:
    """Seconds (rounded up) before the user's next search or expensive read is allowed, if this
    process knows; 0 if not."""
    wait = _busy_until.get(user_id, 0.0) - BURST - time.time()
    return math.ceil(wait) if wait > 0 else 0


def _busy_for(user_id: int, ahead: float) -> int:
    """Note the user's reads paid for until `ahead` seconds from now; the seconds before the
    next is allowed (Retry-After), at least 1."""
    with _past_window_lock:
        now = time.time()
        if len(_busy_until) > 10_000:  # the paid-up users go
            for user, until in list(_busy_until.items()):
                if until <= now:
                    del _busy_until[user]
        _busy_until[user_id] = now + ahead
    return max(math.ceil(ahead - BURST), 1)


def _known_over(user_id: int, window: tuple[int, float, int]) -> int:
    """Seconds until the window ends, if this process already knows the user is past it; 0 if
    not."""
    until = _past_window.get(user_id, 0.0)
    if until != window[1]:
        return 0
    return max(math.ceil(until - time.time()), 1)


def forget() -> None:
    """Forget which users this process has seen past their window (tests start afresh)."""
    with _past_window_lock:
        _past_window.clear()
        _busy_until.clear()


def _over(user_id: int, until: float) -> int:
    """Note the user past the window until `until`; the seconds to wait (Retry-After)."""
    with _past_window_lock:
        now = time.time()
        if len(_past_window) > 10_000:  # the ended windows go
            for user, ends in list(_past_window.items()):
                if ends <= now:
                    del _past_window[user]
        _past_window[user_id] = until
    return max(math.ceil(until - now), 1)


# For the rest of an expensive read's transaction: no parallel workers, and its statement timeout.
LIMIT_READ = "SELECT set_config('max_parallel_workers_per_gather', '0', true), set_config('statement_timeout', %s, true)"

# Advisory lock keys (two int4s): the user's slots are (USER_NAMESPACE + n, user id), the
# server's (TOTAL_NAMESPACE, n). The first free slot is taken, and only it: LIMIT 1 and EXISTS
# stop the series (read in order, never sorted) there. The user's slot number n is answered
# (NULL: none free).
USER_NAMESPACE = 0x45520000  # "ER", expensive reads; slot n adds n
TOTAL_NAMESPACE = 0x4552FFFF
_USER_SLOT = (
    "(SELECT n FROM generate_series(0, %s::int - 1) AS n "
    "WHERE pg_try_advisory_xact_lock(%s::int + n, %s::int) LIMIT 1)"
)
# Seconds the user's reads have paid for ahead of now (NULL: nothing written yet), their rows'
# summed (api/migrations/0005_read_time_ahead_plpgsql.py).
_AHEAD = "api_read_time_ahead(%s)"
TAKE_USER_SLOT = f"SELECT {_USER_SLOT}, {_AHEAD}"
TAKE_SLOTS = (
    f"SELECT {_USER_SLOT}, "  # noqa: S608 (constants only)
    "EXISTS (SELECT FROM generate_series(0, %s::int - 1) AS n "
    f"WHERE pg_try_advisory_xact_lock(%s::int, n)), {_AHEAD}"
)
# The read's cost (%s seconds) moves the slot's row on from now or from where it was, whichever
# is later (the database's clock, which every server shares); a new row counts no read of the
# window. Answers the seconds this row has paid for ahead of now: the user's whole time ahead
# (_AHEAD) is at least that, so a process that refuses on it (_busy_for) refuses no read the
# database would allow.
CHARGE = (
    "WITH now AS (SELECT clock_timestamp() AS t) "
    "INSERT INTO api_expensivereadwindow AS w (user_id, slot, window_start, reads, busy_until) "
    "SELECT %s, %s, %s, 0, t + make_interval(secs => %s) FROM now "
    "ON CONFLICT (user_id, slot) DO UPDATE SET busy_until = "
    "greatest(w.busy_until, (SELECT t FROM now)) + (EXCLUDED.busy_until - (SELECT t FROM now)) "
    "RETURNING extract(epoch FROM busy_until - (SELECT t FROM now))::float"
)
# One row per user and slot (api.models.ExpensiveReadWindow): the slot's row is counted (a row
# of an earlier window starts again at 1), then the user's rows of this window summed. The slot
# is the user's own, held until the transaction ends, so no two reads wait on one row; another
# slot's read still in progress is not seen until it commits (at most EXPENSIVE_READS_IN_FLIGHT
# - 1 over the rate).
COUNT = (
    "WITH counted AS (INSERT INTO api_expensivereadwindow AS w (user_id, slot, window_start, reads) "
    "VALUES (%s, %s, %s, 1) ON CONFLICT (user_id, slot) DO UPDATE SET "
    "reads = CASE WHEN w.window_start = EXCLUDED.window_start THEN w.reads + 1 ELSE 1 END, "
    "window_start = EXCLUDED.window_start RETURNING slot, reads) "
    "SELECT (SELECT reads FROM counted) + COALESCE((SELECT sum(reads) FROM api_expensivereadwindow "
    "WHERE user_id = %s AND window_start = %s AND slot <> (SELECT slot FROM counted)), 0)"
)


def _int4(number: int) -> int:
    """`number` folded into PostgreSQL's int4 (an advisory lock key's half)."""
    return (number + 2**31) % 2**32 - 2**31
