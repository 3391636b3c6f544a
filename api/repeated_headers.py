"""A header a client sends twice with the same value is one header (CONTRACT.md §1).

Some clients and proxies repeat a header (a default `Authorization` plus the same one set per
request, a retry library adding `Idempotency-Key` again). gunicorn, like any WSGI server, joins
the repeats into one comma-separated value (RFC 9110 §5.3), which for a header that holds one
value is no longer that value: `Bearer t,Bearer t` is not a token. The original API read the
first of them. Here a header that holds one value and arrives as identical repeats is read as
one; repeats that differ are left joined, so they are refused as any other unreadable value
would be (an ambiguous `Authorization` is a 401, not a guess at which one was meant).

Headers that are lists by definition (`If-Match`, `If-None-Match`, `Accept`, `Prefer`, `Vary`)
need nothing: their joined value is what they mean. gunicorn itself refuses a repeated `Host`,
`Content-Type` or `Content-Length` with a 400 before any application code runs.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# The WSGI names of the request headers that hold a single value.
SINGLE_VALUE_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_IDEMPOTENCY_KEY", "HTTP_X_REQUEST_ID", "HTTP_ORIGIN")


def one_of_identical_repeats(value: str) -> str:
    """`value` with identical comma-joined repeats folded into one; anything else unchanged."""
    if "," not in value:
        return value
    parts = {part.strip() for part in value.split(",")}
    return parts.pop() if len(parts) == 1 else value


class RepeatedHeadersMiddleware:
    """Folds identical repeats of single-value headers into one (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name in SINGLE_VALUE_HEADERS:
            if value := request.META.get(name):
                request.META[name] = one_of_identical_repeats(value)
        return self.get_response(request)
