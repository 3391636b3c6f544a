"""Request bodies sent with ``Transfer-Encoding: chunked`` are bodies.

curl with ``-H 'Transfer-Encoding: chunked'``, Node's ``http.request`` with ``write()`` and
Python's ``http.client`` with a streamed body send no ``Content-Length``. gunicorn decodes the
chunks, but Django reads ``Content-Length`` bytes of the body, so it would see an empty one.
This middleware reads the decoded body (at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes, and one
more to tell that it is too large) and hands it on to Django with its length, so every route
and parser sees it as if it had been sent with a length. A body past the limit is the same 413
as one declared too large; the rest of it is not read.
"""

import io
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

from api.errors import PayloadTooLarge

_READ_SIZE = 64 * 1024


def _read_at_most(stream: io.RawIOBase, limit: int) -> bytes:
    """Up to `limit` bytes of the stream, stopping at its end."""
    parts, size = [], 0
    while size < limit:
        part = stream.read(min(_READ_SIZE, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


class ChunkedBodyMiddleware:
    """Reads a chunked body up front (see the module's docstring); 413 past the limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        stream = request.META.get("wsgi.input")
        if chunked and stream is not None and not request.META.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = _read_at_most(stream, sys.maxsize if limit is None else limit + 1)
            if limit is not None and len(body) > limit:
                return JsonResponse({"detail": PayloadTooLarge.default_detail}, status=413)
            request.META["CONTENT_LENGTH"] = str(len(body))
            # What WSGIRequest itself wraps wsgi.input in; django-stubs declares a BinaryIO.
            request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
        return self.get_response(request)
