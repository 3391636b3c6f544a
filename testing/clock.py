"""The clock the rate limiter reads, frozen, so that in-process tests line up rate windows by
moving the clock rather than by sleeping.

The limiters (FixedWindowLimit, and api/read_budget.py's window; LIMITER_MODULES) read the time
as `time.time()`; the `frozen_clock` fixture replaces those modules' `time` with a FrozenClock,
so only the limiters' clock stops: Django, tokens, the cache's expiry and the database keep real
time. When a limiter moves, LIMITER_MODULES is the one line to change.
"""

import time
from types import ModuleType
from typing import Any

LIMITER_MODULES = ("api.throttling", "api.read_budget")
"""The modules whose `time.time()` is the rate limiters' clock (the budget of expensive reads
counts its window in PostgreSQL, with this clock's window numbers)."""

START = 1_800_057_600.0
"""Where a frozen clock starts, in seconds since the epoch: 2027-01-15 08:00:00 UTC, a midnight
UTC, so the first instant of a second, minute, hour and day window alike."""


class FrozenClock:
    """Stands in for the `time` module: `time()` answers `now` (seconds since the epoch, a float)
    until `advance()` moves it; every other attribute is the real module's."""

    def __init__(self, now: float = START, real: ModuleType = time) -> None:
        self.now = now
        self._real = real

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on by `seconds` (e.g. past the end of a window)."""
        self.now += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)
