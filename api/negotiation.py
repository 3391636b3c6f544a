"""Content negotiation as the original API did it: the ``Accept`` header is not consulted.

Clients send all sorts (none, empty, ``text/html``, ``text/plain``, ``application/hal+json``);
the original answered every one of them with JSON, so a 406 here would break them. Each view
answers with its first renderer (JSON for the API, HTML for the docs pages); parsers are
still chosen by ``Content-Type`` as DRF does.
"""

from collections.abc import Iterable

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class IgnoreAcceptNegotiation(DefaultContentNegotiation):
    """DRF's negotiation for parsers; for renderers, always the view's first one."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """The view's first renderer and its media type, whatever ``Accept`` says (DRF passes
        the view's renderer instances, a list that is never empty)."""
        renderer = next(iter(renderers))
        return renderer, renderer.media_type
