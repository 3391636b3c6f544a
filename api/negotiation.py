"""Content negotiation as the original API did it.

The ``Accept`` header is not consulted. Clients send all sorts (none, empty, ``text/html``,
``text/plain``, ``application/hal+json``); the original answered every one of them with JSON,
so a 406 here would break them. Each view answers with its first renderer (JSON for the API,
HTML for the docs pages).

A body is read as JSON when its ``Content-Type`` is absent, ``application/json`` (any
parameters) or any ``application/<name>+json`` (``vnd.api+json``, ``merge-patch+json``), as the
original read it (CONTRACT.md §1); any other type is DRF's choice among the view's parsers.
"""

from collections.abc import Iterable

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.utils.mediatypes import _MediaType

JSON = "application/json"


def reads_as_json(content_type: str) -> bool:
    """Whether a body of this ``Content-Type`` is JSON to the original API: absent, JSON, or a
    structured ``+json`` type (RFC 6839) of the ``application`` tree, any parameters."""
    if not content_type.strip():
        return True
    media_type = _MediaType(content_type)
    return media_type.main_type.lower() == "application" and (
        media_type.sub_type.lower() == "json" or media_type.sub_type.lower().endswith("+json")
    )


class IgnoreAcceptNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that renderers are always the view's first one and that every
    JSON-like ``Content-Type`` selects the view's JSON parser."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        """The view's JSON parser for a JSON-like body (see the module's docstring), else DRF's
        choice by media type; None when no parser fits (DRF's 415)."""
        parsers = list(parsers)
        if reads_as_json(request.content_type):
            for parser in parsers:
                if parser.media_type == JSON:
                    return parser
        return super().select_parser(request, parsers)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        """The view's first renderer and its media type, whatever ``Accept`` says (DRF passes
        the view's renderer instances, a list that is never empty)."""
        renderer = next(iter(renderers))
        return renderer, renderer.media_type
