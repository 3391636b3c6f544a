"""One limit for every request body, of every content type: ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

Django applies that limit to a body it reads whole (JSON, a form) and to a multipart form's
fields, but not to a multipart form's file parts, which it streams to temporary files of any
size: a 300 MiB file part sent to ``POST /login`` was read and written to disk before the
answer. Here a body declared longer than the limit is a 413 before any of it is read; a chunked
body is held to the same limit as it is read (config/chunked.py). The file parts that remain
are within the limit, and settings.py keeps them in memory (``FILE_UPLOAD_HANDLERS``), so no
request writes a temporary file.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from api.errors import PayloadTooLarge


class BodyLimitMiddleware:
    """413 ``{"detail": "Request body too large"}`` for a ``Content-Length`` past the limit,
    whatever the content type, before the body is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = request.META.get("CONTENT_LENGTH") or ""
        if limit is not None and declared.isdigit() and int(declared) > limit:
            response = JsonResponse({"detail": PayloadTooLarge.default_detail}, status=413)
            # The rest of the body is not read: the connection cannot carry another request.
            response["Connection"] = "close"
            return response
        return self.get_response(request)
