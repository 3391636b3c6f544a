"""Counts each request for /metrics: its route template, method, status and duration, and the
database queries it ran and their time."""

import contextlib
import re
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import HttpRequest, HttpResponse

from observability.metrics import DB_QUERIES, DB_QUERY_DURATION, HTTP_REQUEST_DURATION, HTTP_REQUESTS

# A path no route matched: one label for all of them, so that scanners cannot add a series
# per path they try.
UNMATCHED = "unmatched"
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
# Any other method (a typo, a scanner's) is one label too.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@lru_cache(maxsize=512)
def route_template(route: str) -> str:
    """A route's pattern as a path template: ``^posts/(?P<pk>[^/]+)/?$`` → ``/posts/{pk}``."""
    template = _GROUP.sub(r"{\1}", route).lstrip("^").removesuffix("$").removesuffix("/?")
    return "/" + template.replace("\\.", ".").lstrip("/")


class QueryTimer:
    """A database execute wrapper (Django's ``connection.execute_wrapper``) that counts the
    queries of one request and adds up their time."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


@lru_cache(maxsize=4096)
def request_series(route: str, method: str, status: int) -> Any:
    """The request counter's series for these labels (``labels()`` validates and locks on each
    call; the series themselves never change)."""
    return HTTP_REQUESTS.labels(route=route, method=method, status=str(status))


@lru_cache(maxsize=1024)
def route_series(route: str, method: str) -> tuple[Any, Any, Any]:
    """The duration histogram's, query counter's and query time's series for a route."""
    return (
        HTTP_REQUEST_DURATION.labels(route=route, method=method),
        DB_QUERIES.labels(route=route),
        DB_QUERY_DURATION.labels(route=route),
    )


class MetricsMiddleware:
    """Near the top of the middleware: times the whole answer. Not used (no cost at all) while
    ``METRICS_TOKEN`` is unset, since nobody may read the figures then."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.METRICS_TOKEN:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.aliases = list(settings.DATABASES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timer = QueryTimer()
        started = time.perf_counter()
        if len(self.aliases) == 1:
            with connections[self.aliases[0]].execute_wrapper(timer):
                response = self.get_response(request)
        else:
            with contextlib.ExitStack() as stack:
                for alias in self.aliases:  # the replicas' too, when reads go there
                    stack.enter_context(connections[alias].execute_wrapper(timer))
                response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = route_template(match.route) if match is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        request_series(route, method, response.status_code).inc()
        duration, queries, query_time = route_series(route, method)
        duration.observe(elapsed)
        if timer.count:
            queries.inc(timer.count)
            query_time.inc(timer.seconds)
        return response
