"""The API's own routes: the greeting at / and the served OpenAPI document."""

from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import serializers
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
