from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MethodCheckedFirst:
    """Answer 405 for a method the route does not serve before authenticating, as the
    original does (DRF would otherwise answer 401 first)."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        method = request.method.lower()
        unserved_options = method == "options" and self.metadata_class is None
        if method not in self.http_method_names or not hasattr(self, method) or unserved_options:
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


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
