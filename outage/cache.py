"""The shared cache (Redis) not answering is one warning, not one per request.

Rate limits, the budget of expensive reads and the replicas' pins all fail open when the cache
does not answer within its socket timeouts (settings.CACHES: 50 ms): the request is served, and
the process logs one warning when the cache stops answering and one when it answers again.
"""

import logging
import threading

logger = logging.getLogger("outage.cache")

# Whether the last use of the cache in this process failed.
_down = threading.Event()


def unavailable(who: str) -> None:
    """Record that the cache did not answer ``who`` (a limit's scope, "replicas"); warn once."""
    if not _down.is_set():
        _down.set()
        logger.warning(
            "cache unavailable: not limiting, and reading from the primary, until it answers (%s)", who
        )


def answered() -> None:
    """Record that the cache answered; warn once if it had not before."""
    if _down.is_set():
        _down.clear()
        logger.warning("cache answers again")
