"""Rate limits per client address (or per user) with fixed windows, counted in Django's
default cache.

With ``REDIS_URL`` set the cache is Redis, so every worker process and host shares one count;
without it each process counts on its own. Counting is an atomic increment (Redis ``INCR``,
or the local-memory cache's lock), never a read followed by a write, so concurrent requests
cannot all see the same count and slip through together. DRF's own throttles
(``SimpleRateThrottle``) read a history and write it back, so concurrent requests race past
them; the throttle classes here are DRF throttles over these atomic counts instead.
"""

import dataclasses
import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.checks import Error, register
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from environment.variables import Rate as Rate
from environment.variables import parse_rate as parse_rate

# Re-exported (the "as" form): the rate limits' tests read them here.
from outage import cache as cache_outage

logger = logging.getLogger(__name__)

#: Sent on each refusal past a limit, with ``limit`` (the FixedWindowLimit's scope, e.g.
#: ``"post"``); the metrics app counts them (observability/apps.py).
limit_refused = Signal()


def client_address(request: Request | HttpRequest) -> str:
    """REMOTE_ADDR, or the address the outermost of NUM_PROXIES trusted proxies saw. A
    Django request too (the admin's login form): DRF's get_ident reads only ``META``."""
    # The stubs type get_ident's request as DRF's Request; both kinds have the same META.
    return BaseThrottle().get_ident(request) or ""  # type: ignore[arg-type]


class FixedWindowLimit:
    """At most ``rate.limit`` counted events per client address in each window of the rate's
    period. ``count`` counts an event and says whether it is within the limit, so concurrent
    events are never let through past it (a caller may take one back with ``uncount``);
    ``check`` only looks, for events counted once they have happened (a wrong password)."""

    def __init__(self, scope: str, setting: str) -> None:
        self.scope = scope
        self.setting = setting

    @property
    def rate(self) -> Rate:
        """The limit and its window, read from the setting each time (tests change it)."""
        return parse_rate(getattr(settings, self.setting))

    def _key(self, address: str, window: int) -> str:
        # Hashed: a forwarded address is client-controlled text, not a safe cache key.
        digest = hashlib.sha256(address.encode()).hexdigest()[:32]
        return f"ratelimit:{self.scope}:{digest}:{window}"

    def count(self, address: str) -> "Counted":
        """Count one event for the address, and say whether it is within the limit."""
        rate = self.rate
        now = time.time()
        window = int(now // rate.period)
        key = self._key(address, window)
        try:
            # The key outlives its window, so it cannot expire between add() and incr().
            cache.add(key, 0, timeout=2 * rate.period)
            used = cache.incr(key)
        except Exception:
            # A limit must not take the API down with its cache: count nothing, serve the request
            # (one warning while the cache is down, outage/cache.py).
            cache_outage.unavailable(f"rate limit {self.scope}")
            return Counted(key=None, retry_after=None)
        cache_outage.answered()
        reset = math.ceil(max((window + 1) * rate.period - now, 1))
        if used <= rate.limit:
            return Counted(key=key, retry_after=None, used=used, rate=rate, reset=reset)
        limit_refused.send(sender=FixedWindowLimit, limit=self.scope)
        return Counted(key=key, retry_after=reset, used=used, rate=rate, reset=reset)

    def check(self, address: str) -> "Counted":
        """Whether the address is already past the limit, counting nothing: for events known
        only once they happened (a wrong password), which are then counted with ``count``."""
        rate = self.rate
        now = time.time()
        window = int(now // rate.period)
        key = self._key(address, window)
        try:
            used = cache.get(key) or 0
        except Exception:
            cache_outage.unavailable(f"rate limit {self.scope}")
            return Counted(key=None, retry_after=None)
        cache_outage.answered()
        reset = math.ceil(max((window + 1) * rate.period - now, 1))
        if used < rate.limit:
            return Counted(key=key, retry_after=None, used=used, rate=rate, reset=reset)
        limit_refused.send(sender=FixedWindowLimit, limit=self.scope)
        return Counted(key=key, retry_after=reset, used=used, rate=rate, reset=reset)

    def uncount(self, counted: "Counted") -> "Counted":
        """Take back an event counted earlier (it turned out not to count); the count as it is
        now (for the RateLimit header)."""
        if counted.key is None:
            return counted
        try:
            used = cache.decr(counted.key)
        except Exception:  # the key is gone or the cache is down: nothing to take back
            logger.debug("rate limit %s: nothing to uncount", self.scope)
            return counted
        return dataclasses.replace(counted, used=used)


@dataclass(frozen=True)
class Counted:
    """One counted event: its cache key (None when the cache was down and nothing was counted)
    and, past the limit, the seconds until the window ends."""

    key: str | None
    retry_after: int | None  # None when within the limit, else seconds until the window ends
    # The count after this event (Redis's INCR answer, exact across workers and hosts; for a
    # check, the count so far), the rate it is counted against and the seconds until its
    # window ends; unknown (0, None) when the cache was down.
    used: int = 0
    rate: Rate | None = None
    reset: int = 0

    @property
    def limit(self) -> int:
        """The events allowed in the window (0 when unknown)."""
        return self.rate.limit if self.rate is not None else 0

    @property
    def over_limit(self) -> bool:
        """Whether this event is past the limit (to be refused with a 429)."""
        return self.retry_after is not None


LOGIN_FAILURES = FixedWindowLimit("login-failure", "LOGIN_FAILURE_RATE")
SIGNUPS = FixedWindowLimit("signup", "SIGNUP_RATE")
# Counted per user, not per address: the key is the user's id.
REPORTS = FixedWindowLimit("report", "REPORT_RATE")
PASSWORD_RESETS = FixedWindowLimit("password-reset", "PASSWORD_RESET_RATE")
# Per user, like reports: a data export reads every row of the account.
EXPORTS = FixedWindowLimit("export", "EXPORT_RATE")
# Keyed by the email address asked about rather than the client's.
PASSWORD_RESET_EMAILS = FixedWindowLimit("password-reset-email", "PASSWORD_RESET_EMAIL_RATE")


class LoginAttempt:
    """One attempt at a password by a client address. An address already past
    LOGIN_FAILURE_RATE is refused before its password is checked; otherwise the attempt counts
    only once it failed (``settle``), so a correct login is never refused because other logins
    were in flight (successful logins are not counted). Guesses sent together before the count
    reaches the limit may all be checked: at most what a server has in flight at once."""

    def __init__(self, address: str, checked: Counted) -> None:
        self.address = address
        self.checked: Counted | None = checked

    @property
    def counted(self) -> Counted | None:
        """The check made before the password (nothing is counted until ``settle``)."""
        return self.checked

    @property
    def over_limit(self) -> bool:
        """Whether the address is past the limit: refuse (429) without checking the password."""
        return self.checked is not None and self.checked.over_limit

    @property
    def retry_after(self) -> int | None:
        """Seconds until the window ends when over the limit, else None."""
        return self.checked.retry_after if self.checked is not None else None

    def settle(self, *, failed: bool) -> Counted | None:
        """Once the answer is known: a password that was checked and wrong counts. Settling
        twice, or an attempt refused before its check, counts nothing. Returns the count as it
        then stands (for the RateLimit header), None once settled."""
        standing = self.checked
        if self.checked is not None and failed and not self.checked.over_limit:
            standing = LOGIN_FAILURES.count(self.address)
        self.checked = None
        return standing


def login_attempt(request: Request | HttpRequest) -> LoginAttempt:
    """A password attempt of the request's client address, checked against the one failed-login
    count of POST /login (LoginFailureThrottle), the password-confirming routes
    (accounts.account_views.confirm_password) and the admin's login form (siteadmin/site.py).
    The caller refuses it when ``over_limit`` and calls ``settle`` with the outcome."""
    address = client_address(request)
    return LoginAttempt(address, LOGIN_FAILURES.check(address))


class FixedWindowThrottle(BaseThrottle):
    """A DRF throttle over a FixedWindowLimit: each request it sees is counted (atomically, so
    concurrent requests cannot slip past the limit together, as they can past DRF's own
    ``SimpleRateThrottle``, which reads its history and then writes it back).

    ``limit`` is the FixedWindowLimit; ``message`` the 429's detail (the base endpoint adds
    "Expected available in N seconds." and ``Retry-After``); ``get_ident`` whose count it is
    (the client address by default); ``methods`` the methods counted (None: all).

    The base endpoint calls ``settle`` with the answer, and sends ``headers()`` on it (the
    ``RateLimit-Policy`` and ``RateLimit`` headers), so a view that declares the throttle gets
    both. A replayed ``Idempotency-Key`` answer (api.idempotency) is taken back: the request
    was counted when it was first made."""

    limit: FixedWindowLimit
    message: str | None = None
    methods: frozenset[str] | None = None
    counted: Counted | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        """Count the request; False (a 429) past the limit."""
        if self.methods is not None and request.method not in self.methods:
            return True
        self.counted = self.limit.count(self.get_ident(request) or "")
        return not self.counted.over_limit

    def settle(self, request: Request, response: HttpResponse) -> None:
        """Called by the base endpoint with the response: a replayed answer is not counted."""
        if self.counted is not None and response.headers.get("Idempotent-Replayed") == "true":
            self.counted = self.limit.uncount(self.counted)

    def headers(self) -> dict[str, str]:
        """This limit's ``RateLimit-Policy`` and ``RateLimit`` items (draft-ietf-httpapi-
        ratelimit-headers-10): ``"post";q=30;w=60`` and ``"post";r=29;t=41``, where ``q`` is
        the quota, ``w`` the window in seconds, ``r`` what remains of it and ``t`` the seconds
        until it resets. None when nothing was counted (another method, the cache down)."""
        counted = self.counted
        if counted is None or counted.rate is None:
            return {}
        name = self.limit.scope
        return {
            "RateLimit-Policy": f'"{name}";q={counted.rate.limit};w={counted.rate.period}',
            "RateLimit": f'"{name}";r={max(counted.rate.limit - counted.used, 0)};t={counted.reset}',
        }

    @property
    def refused(self) -> bool:
        """Whether this throttle refused the request it counted."""
        return self.counted is not None and self.counted.over_limit

    def wait(self) -> int | None:
        """Seconds until the window ends (``Retry-After``), or None within the limit."""
        return self.counted.retry_after if self.counted is not None else None


class SignupRateThrottle(FixedWindowThrottle):
    """Every signup attempt counts (SIGNUP_RATE per client address), so the 409 for a taken
    email cannot be used to enumerate registered addresses at speed."""

    limit = SIGNUPS
    message = "Too many signups from this address."


class LoginFailureThrottle(FixedWindowThrottle):
    """Failed logins per client address (LOGIN_FAILURE_RATE); the count the admin's login form
    (siteadmin/site.py) and the password-confirming routes keep too.

    An address past the limit is refused before its password is checked; an attempt counts
    only once its answer is the refusal of the credentials (403): see LoginAttempt."""

    limit = LOGIN_FAILURES
    message = "Too many failed logins from this address."
    attempt: LoginAttempt | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        """Check the attempt (login_attempt); False (a 429) past the limit."""
        self.attempt = login_attempt(request)
        self.counted = self.attempt.counted
        return not self.attempt.over_limit

    def settle(self, request: Request, response: HttpResponse) -> None:
        """Called by the base endpoint with the response: only a 403 (the credentials refused)
        counts; the count as it then stands is what the RateLimit header tells."""
        if self.attempt is not None:
            standing = self.attempt.settle(failed=response.status_code == status.HTTP_403_FORBIDDEN)
            if standing is not None:
                self.counted = standing


class PasswordResetRateThrottle(FixedWindowThrottle):
    """Every password-reset request counts (PASSWORD_RESET_RATE per client address), like a
    signup, so addresses cannot be tried at speed."""

    limit = PASSWORD_RESETS
    message = "Too many password resets from this address."


class ReportRateThrottle(FixedWindowThrottle):
    """Every report attempt of an authenticated user counts against REPORT_RATE, whatever its
    answer, so a user cannot flood the queue or probe which posts exist at speed."""

    limit = REPORTS
    message = "Too many reports."

    def get_ident(self, request: Request) -> str:
        """Counted per user, not per address."""
        return f"user:{request.user.pk}"


class ExportRateThrottle(FixedWindowThrottle):
    """Every data export of an authenticated user counts against EXPORT_RATE: each one reads
    all of the account's rows."""

    limit = EXPORTS
    message = "Too many exports."

    def get_ident(self, request: Request) -> str:
        """Counted per user, not per address."""
        return f"user:{request.user.pk}"


class PerUserThrottle(FixedWindowThrottle):
    """A write limit per authenticated user (docs/operating.md), counted on ``methods`` only."""

    methods = frozenset({"POST"})

    def get_ident(self, request: Request) -> str:
        """Counted per user, not per address."""
        return f"user:{request.user.pk}"


POSTS = FixedWindowLimit("post", "POST_RATE")
VOTES = FixedWindowLimit("vote", "VOTE_RATE")
COMMENTS = FixedWindowLimit("comment", "COMMENT_RATE")
FOLLOWS = FixedWindowLimit("follow", "FOLLOW_RATE")


class PostRateThrottle(PerUserThrottle):
    """New posts per user (POST_RATE)."""

    limit = POSTS
    message = "Too many posts."


class VoteRateThrottle(PerUserThrottle):
    """Votes per user, both directions (VOTE_RATE)."""

    limit = VOTES
    message = "Too many votes."


class CommentRateThrottle(PerUserThrottle):
    """New comments per user (COMMENT_RATE); for the comments routes to declare."""

    limit = COMMENTS
    message = "Too many comments."


class FollowRateThrottle(PerUserThrottle):
    """Follows and unfollows per user (FOLLOW_RATE); for the follows routes to declare (with
    ``methods`` widened to DELETE if unfollowing is a DELETE)."""

    limit = FOLLOWS
    message = "Too many follows."


@register()
def check_rates(app_configs: object = None, **kwargs: object) -> list[Error]:
    """Django system check: each rate setting must parse (``environment.variables.parse_rate``)."""
    errors = []
    for setting in (
        "LOGIN_FAILURE_RATE",
        "SIGNUP_RATE",
        "REPORT_RATE",
        "FOLLOW_RATE",
        "PASSWORD_RESET_RATE",
        "PASSWORD_RESET_EMAIL_RATE",
        "POST_RATE",
        "VOTE_RATE",
        "COMMENT_RATE",
        "FOLLOW_RATE",
        "EXPORT_RATE",
    ):
        try:
            parse_rate(getattr(settings, setting))
        except ValueError as exc:
            errors.append(Error(f"{setting}: {exc}", id="config.E001"))
    return errors
