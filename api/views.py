"""The API's own routes: the greeting at /, the served OpenAPI document, its two pages, and the
icon browsers ask for."""

from functools import cache
from pathlib import Path
from typing import Any

import drf_spectacular_sidecar
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.endpoints import Endpoint


class RootView(Endpoint):
    """GET /: the original API's greeting."""

    public = True
    uses_database = False

    @extend_schema(
        summary="Say hello",
        description='Answers `{"message": "Hello World"}`.',
        responses={200: inline_serializer("Greeting", {"message": serializers.CharField()})},
        tags=["Root"],
    )
    def get(self, request: Request) -> Response:
        return Response({"message": "Hello World"})


class OpenApiJsonView(SpectacularJSONAPIView):
    """/openapi.json served as ``application/json``, as the original served it and as the tools
    that fetch it (code generators, Postman's import) expect, whatever ``Accept`` says."""

    renderer_classes = [OpenApiJsonRenderer2]


class JsonErrorsMixin:
    """A view rendered as HTML whose error answers (405 for any method but GET and HEAD, ...)
    are JSON in the contract's shape, as every route's are (CONTRACT.md §1), rather than its
    HTML renderer's text."""

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if response.status_code >= 400 and isinstance(response, Response):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
            response.content_type = None  # the renderer's, not the page's
        return response


class SwaggerView(JsonErrorsMixin, SpectacularSwaggerView):
    """/docs: Swagger UI, with JSON errors."""


class RedocView(JsonErrorsMixin, SpectacularRedocView):
    """/redoc: Redoc, with JSON errors."""


@cache
def _favicon() -> bytes:
    # Swagger UI's own icon, from the package that serves its files.
    folder = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar"
    return (folder / "swagger-ui-dist" / "favicon-32x32.png").read_bytes()


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which every browser asks for on every page (the admin's, a JSON answer):
    an icon rather than a 404 and its warning in the log each time."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": "Method Not Allowed"}, status=405, headers={"Allow": "GET, HEAD"})
    response = HttpResponse(_favicon(), content_type="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
