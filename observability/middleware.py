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


class MetricsMiddleware:
    """Outermost middleware: times the whole answer. Not used (no cost at all) while
    ``METRICS_TOKEN`` is unset, since nobody may read the figures then."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.METRICS_TOKEN:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.aliases = list(settings.DATABASES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timer = QueryTimer()
        started = time.perf_counter()
        with contextlib.ExitStack() as stack:
            for alias in self.aliases:  # the replicas' too, when reads go there
                stack.enter_context(connections[alias].execute_wrapper(timer))
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = route_template(match.route) if match is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
        HTTP_REQUEST_DURATION.labels(route=route, method=method).observe(elapsed)
        if timer.count:
            DB_QUERIES.labels(route=route).inc(timer.count)
            DB_QUERY_DURATION.labels(route=route).inc(timer.seconds)
        return response
