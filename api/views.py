from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.conditional import mark_private


class MethodCheckedFirst:
    """Answer 405 for a method the route does not serve before authenticating, as the
    original does (DRF would otherwise answer 401 first). Reads of an authenticated route say
    `Cache-Control: private` and `Vary: Authorization` (CONTRACT.md §7.2)."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        method = request.method.lower()
        unserved_options = method == "options" and self.metadata_class is None
        if method not in self.http_method_names or not hasattr(self, method) or unserved_options:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.authentication_classes:  # an authenticated route: its reads differ per caller
            mark_private(request, response)
        return response


class RootView(MethodCheckedFirst, APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Say hello",
        responses={200: inline_serializer("Greeting", {"message": serializers.CharField()})},
        tags=["Root"],
    )
    def get(self, request: Request) -> Response:
        return Response({"message": "Hello World"})


class OpenApiJsonView(SpectacularJSONAPIView):
    """/openapi.json served as ``application/json``, as the original served it and as the tools
    that fetch it (code generators, Postman's import) expect, whatever ``Accept`` says."""

    renderer_classes = [OpenApiJsonRenderer2]
