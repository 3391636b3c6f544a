"""A request id for every request: taken from a sane incoming ``X-Request-ID`` (set by a
proxy) or made here, sent back in the response's ``X-Request-ID`` header and written on
every log line of that request, so a client's report and the server's traceback meet."""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# Only short, plain ids are taken from the client: anything else could forge log lines.
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,64}")

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request.id = incoming if _ACCEPTED.fullmatch(incoming) else uuid.uuid4().hex
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response[HEADER] = request.id
        return response
