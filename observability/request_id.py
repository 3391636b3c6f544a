"""A request id for every request: taken from a sane incoming ``X-Request-ID`` (set by a
proxy) or made here, sent back in the response's ``X-Request-ID`` header and written on
every log line of that request, so a client's report and the server's traceback meet."""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse, JsonResponse

HEADER = "X-Request-ID"
# Its name in the WSGI environ: read there, as Django's ``request.headers`` would build a
# mapping of every header (about 7 µs) for this one lookup.
META_KEY = "HTTP_X_REQUEST_ID"
# Only short, plain ids are taken from the client: anything else could forge log lines.
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{1,64}")

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
logger = logging.getLogger("django.request")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get(META_KEY, "")
        # Our own attribute (django-stubs' HttpRequest has no `id`); log lines read it.
        request.id = incoming if _ACCEPTED.fullmatch(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        except Exception:
            # Django turns a view's or a middleware's exception into a response below this
            # point; one that escapes even that (its 500 handler failing) still gets an
            # answer in the contract's shape, with the id, instead of the server's bare page.
            logger.exception("Internal Server Error: %s", request.path)
            response = JsonResponse({"detail": "Internal Server Error"}, status=500)
        finally:
            current_request.reset(token)
        response[HEADER] = request.id  # type: ignore[attr-defined]
        return response
