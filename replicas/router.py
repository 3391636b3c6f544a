"""Read replicas: the API's reads go to a replica, everything else to the primary.

Installed only when ``DATABASE_REPLICA_URLS`` names replicas (settings.py adds the router and
the middleware; the replicas are the ``replica1``, ``replica2``... aliases). Per request:

- Only ``GET`` and ``HEAD`` outside the admin may read from a replica; writes, every query in
  a transaction, the admin and management commands use the primary (``default``).
- A request with an ``Authorization`` header reads from the primary until authentication has
  loaded its user, from the primary: a revoked or deleted account is refused at once.
- A user who wrote (a post, a vote, a signup, a password change: any API request other than
  GET/HEAD that succeeded) reads from the primary for ``REPLICA_PIN_SECONDS``. The pin lives in
  the shared cache (Redis), so every instance honours it; if the cache does not answer, the
  user reads from the primary.
- A replica that does not answer, or lags more than ``REPLICA_MAX_LAG_SECONDS``, is skipped
  (replicas/health.py); a read that fails on one is retried once on the primary
  (``ReplicaRoutingMiddleware.process_exception``), so an outage is never a 5xx.

The rule of routing reads to replicas and keeping a writer's reads on the primary for a while
is Django's multiple-database router pattern (docs: "Multiple databases", "An example").
"""

import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from outage import cache as cache_outage
from replicas import health as replica_health

PRIMARY = "default"
READ_METHODS = frozenset({"GET", "HEAD"})
PIN_KEY = "replica-pin:user:{}"

logger = logging.getLogger(__name__)


@dataclass
class RequestRouting:
    """Where one request's reads go. ``replica`` is None until one is chosen."""

    read_route: bool  # GET/HEAD outside the admin
    awaiting_user: bool  # has credentials that authentication has not checked yet
    pinned: bool = False  # the user wrote within REPLICA_PIN_SECONDS
    replica: str | None = None
    chosen: bool = False
    writer_id: int | None = None  # the user to pin if this request writes
    view: tuple[Callable, tuple, dict] | None = None

    def read_alias(self) -> str:
        """The alias for a read now: a usable replica, or the primary."""
        if not self.read_route or self.awaiting_user or self.pinned:
            return PRIMARY
        if not self.chosen:
            self.chosen = True
            usable = replica_health.usable_replicas()
            self.replica = random.choice(usable) if usable else None  # noqa: S311 (load spreading)
        return self.replica or PRIMARY


_routing: ContextVar[RequestRouting | None] = ContextVar("replica_routing", default=None)


def user_authenticated(user_id: int) -> None:
    """Called by authentication once the user is loaded (from the primary): this request may
    now read from a replica, unless the user wrote within ``REPLICA_PIN_SECONDS``. A no-op
    without replicas."""
    state = _routing.get()
    if state is None:
        return
    state.writer_id = user_id
    state.awaiting_user = False
    if state.read_route:
        state.pinned = is_pinned(user_id)


def wrote_as(user_id: int) -> None:
    """The request wrote for this user (a signup): pin them if it succeeds. A no-op without
    replicas."""
    state = _routing.get()
    if state is not None:
        state.writer_id = user_id


def pin_to_primary(user_id: int) -> None:
    """Send the user's reads to the primary for ``REPLICA_PIN_SECONDS`` on every instance."""
    try:
        cache.set(PIN_KEY.format(user_id), 1, timeout=settings.REPLICA_PIN_SECONDS)
    except Exception:  # the cache is down: is_pinned() then answers True for everyone
        cache_outage.unavailable("replicas")


def is_pinned(user_id: int) -> bool:
    """Whether the user wrote within ``REPLICA_PIN_SECONDS``; True when the cache does not
    answer (reading from the primary is always correct)."""
    try:
        return cache.get(PIN_KEY.format(user_id)) is not None
    except Exception:
        cache_outage.unavailable("replicas")
        return True


# How deep the primary's atomic blocks are where its transaction holds nothing but locks.
_lock_only_depth: ContextVar[int | None] = ContextVar("lock_only_depth", default=None)


@contextlib.contextmanager
def lock_only_transaction() -> Iterator[None]:
    """For a ``with`` in a transaction of the primary that has only taken locks which say
    nothing of the data (api/read_budget.py's slot of a search): reads in it are routed as
    outside any transaction, to a replica when the request's routing allows. A transaction
    opened inside the block keeps its reads on the primary again."""
    token = _lock_only_depth.set(len(connections[PRIMARY].atomic_blocks))
    try:
        yield
    finally:
        _lock_only_depth.reset(token)


class ReplicaRouter:
    """Django database router: reads as the request's routing says, the rest on the primary."""

    def db_for_read(self, model: type, **hints: object) -> str:
        state = _routing.get()
        # In a transaction of the primary reads stay there, but for one that holds nothing but
        # locks (lock_only_transaction).
        primary = connections[PRIMARY]
        if state is None or (
            primary.in_atomic_block and len(primary.atomic_blocks) != _lock_only_depth.get()
        ):
            return PRIMARY
        return state.read_alias()

    def db_for_write(self, model: type, **hints: object) -> str:
        return PRIMARY

    def allow_relation(self, obj1: object, obj2: object, **hints: object) -> bool:
        return True  # every alias holds the same data

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool:
        return db == PRIMARY


class ReplicaRoutingMiddleware:
    """Sets up each request's routing, pins the user after a successful write, and retries a
    read once on the primary when its replica fails."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        reads = request.method in READ_METHODS and not request.path.startswith("/admin/")
        state = RequestRouting(read_route=reads, awaiting_user="HTTP_AUTHORIZATION" in request.META)
        token = _routing.set(state)
        try:
            response = self.get_response(request)
        finally:
            _routing.reset(token)
        if request.method not in READ_METHODS and state.writer_id is not None and response.status_code < 400:
            pin_to_primary(state.writer_id)
        return response

    def process_view(self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict) -> None:
        state = _routing.get()
        if state is not None:
            state.view = (view, args, kwargs)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        state = _routing.get()
        if state is None or state.replica is None or state.view is None:
            return None
        if not isinstance(exc, DatabaseError):
            return None
        failed, state.replica = state.replica, None
        replica_health.mark_unusable(failed)
        logger.warning("replicas: a read on %s failed, retrying on the primary", failed, exc_info=True)
        view, args, kwargs = state.view
        state.view = None  # once
        return view(request, *args, **kwargs)
