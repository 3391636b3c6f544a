"""POST /login/refresh and POST /logout: the refresh token in a JSON body, no bearer header."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import tokens
from accounts.serializers import RefreshSerializer, TokenSerializer
from config.fields import request_body
from config.schema import error_responses
from config.views import MethodCheckedFirst

BAD_REFRESH = "`Could not validate credentials`: the refresh token is bad, expired, used or revoked."


class RefreshTokenView(MethodCheckedFirst, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=RefreshSerializer,
        responses={
            200: TokenSerializer,
            **error_responses(401, 422, messages={401: "Could not validate credentials"}),
        },
        tags=["Authentication"],
        summary="Refresh the tokens",
        description="A new access token and a new refresh token; the refresh token given stops working.",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        return Response(tokens.rotate(serializer.validated_data["refresh"]))


class LogoutView(MethodCheckedFirst, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=RefreshSerializer,
        responses={
            204: OpenApiResponse(description="The refresh token is revoked."),
            **error_responses(401, 422, messages={401: "Could not validate credentials"}),
        },
        tags=["Authentication"],
        summary="Log out",
        description="Revoke a refresh token (this session only).",
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        tokens.revoke(serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)
