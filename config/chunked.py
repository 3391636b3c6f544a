"""Request bodies as framed on the wire: a chunked body is a body, a broken one is a 400.

curl with ``-H 'Transfer-Encoding: chunked'``, Node's ``http.request`` with ``write()`` and
Python's ``http.client`` with a streamed body send no ``Content-Length``. gunicorn decodes the
chunks, but Django reads ``Content-Length`` bytes of the body, so it would see an empty one.
This middleware reads the decoded body (at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, and one
more to tell that it is too large) and hands it on to Django with its length, so every route
and parser sees it as if it had been sent with a length. A body past the limit is the same 413
as one declared too large; the rest of it is not read.

A body whose framing is broken is 400 ``{"detail": "Malformed request"}`` on every route, before
any view runs (CONTRACT.md §1): a chunk size that is not hex, a bad chunk extension or trailer,
a chunk without its CRLF, and a body that ends (the client closed) before its last chunk or
before ``Content-Length`` bytes. gunicorn raises its own errors for these while the body is read
(and returns a short body silently for a ``Content-Length`` not reached); raised inside a view
they would be a 500 with a traceback. So a body with a ``Content-Length`` within the limit is
read up front too; a larger one is left to Django's 413.
"""

import io
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

from api.errors import PayloadTooLarge

_READ_SIZE = 64 * 1024
MALFORMED_REQUEST = "Malformed request"
try:  # the errors gunicorn's body readers raise; other servers raise OSError or ValueError
    from gunicorn.http.errors import ParseException as _ServerParseError
except ImportError:  # pragma: no cover (gunicorn is a runtime requirement)
    _ServerParseError = ValueError  # type: ignore[assignment,misc]
# NoMoreData (the client closed mid-chunk) is an OSError; so is a reset connection.
_FRAMING_ERRORS = (_ServerParseError, OSError, ValueError)


class MalformedBody(Exception):
    """The body's framing is broken (see the module's docstring)."""


def _read_at_most(stream: io.RawIOBase, limit: int) -> bytes:
    """Up to `limit` bytes of the stream, stopping at its end; raises MalformedBody when the
    server cannot decode it."""
    parts, size = [], 0
    try:
        while size < limit:
            part = stream.read(min(_READ_SIZE, limit - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
    except _FRAMING_ERRORS as exc:
        raise MalformedBody() from exc
    return b"".join(parts)


# How much more of a chunked body past the limit is read and dropped before the 413: closing a
# connection with unread data makes the kernel reset it, and a client still sending then loses
# the answer (a broken pipe) instead of reading the 413.
_DRAIN_FACTOR = 4


def _too_large(stream: io.RawIOBase, limit: int) -> JsonResponse:
    """The 413 for a chunked body past the limit, once the rest of it (up to
    ``_DRAIN_FACTOR`` times the limit) has been read and dropped; the connection is closed."""
    try:
        drained = 0
        while drained < _DRAIN_FACTOR * limit and (part := stream.read(_READ_SIZE)):
            drained += len(part)
    except _FRAMING_ERRORS:
        pass  # the answer is the 413 either way
    response = JsonResponse({"detail": PayloadTooLarge.default_detail}, status=413)
    response["Connection"] = "close"
    return response


def malformed_request() -> JsonResponse:
    """The 400 for a body whose framing is broken."""
    return JsonResponse({"detail": MALFORMED_REQUEST}, status=400)


class ChunkedBodyMiddleware:
    """Reads a body up front (see the module's docstring): 413 past the limit, 400 when its
    framing is broken."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        stream = request.META.get("wsgi.input")
        if stream is None:
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = request.META.get("CONTENT_LENGTH")
        try:
            if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not declared:
                body = _read_at_most(stream, sys.maxsize if limit is None else limit + 1)
                if limit is not None and len(body) > limit:
                    return _too_large(stream, limit)
            elif declared and declared.isdigit() and 0 < int(declared) <= (limit or sys.maxsize):
                body = _read_at_most(stream, int(declared))
                if len(body) < int(declared):  # the client closed before the whole body came
                    return malformed_request()
            else:
                return self.get_response(request)
        except MalformedBody:
            return malformed_request()
        request.META["CONTENT_LENGTH"] = str(len(body))
        # What WSGIRequest itself wraps wsgi.input in; django-stubs declares a BinaryIO.
        request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)
