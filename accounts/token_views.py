"""POST /login/refresh and POST /logout: the refresh token in a JSON body, no bearer header."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import tokens
from accounts.serializers import RefreshSerializer, TokenSerializer
from api.fields import request_body
from api.openapi import error_responses
from api.views import MethodCheckedFirst

REFUSED = error_responses(401, 422, messages={401: "Could not validate credentials"})


class RefreshTokenBodyView(MethodCheckedFirst, APIView):
    """A route that takes a refresh token in a JSON body, and no bearer header."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def refresh_token(self, request: Request) -> str:
        serializer = RefreshSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["refresh"]


class RefreshTokenView(RefreshTokenBodyView):
    @extend_schema(
        request=RefreshSerializer,
        responses={200: TokenSerializer, **REFUSED},
        tags=["Authentication"],
        summary="Refresh the tokens",
        description="A new access token and a new refresh token; the refresh token given stops working.",
    )
    def post(self, request: Request) -> Response:
        return Response(tokens.rotate(self.refresh_token(request)))


class LogoutView(RefreshTokenBodyView):
    @extend_schema(
        request=RefreshSerializer,
        responses={204: OpenApiResponse(description="The refresh token is revoked."), **REFUSED},
        tags=["Authentication"],
        summary="Log out",
        description="Revoke a refresh token (this session only).",
    )
    def post(self, request: Request) -> Response:
        tokens.revoke(self.refresh_token(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
