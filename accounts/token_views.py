"""POST /login/refresh and POST /logout: the refresh token in a JSON body, no bearer header."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import tokens
from accounts.serializers import RefreshSerializer, TokenSerializer
from api.endpoints import Endpoint
from api.openapi import error_responses

# A public route's 401, for a bad refresh token (EndpointSchema adds the 422).
REFUSED = error_responses(401, messages={401: "Could not validate credentials"})


class RefreshTokenBodyView(Endpoint):
    """A route that takes a refresh token in a JSON body, and no bearer header."""

    public = True

    def refresh_token(self, request: Request) -> str:
        """The body's refresh token (a 422 without one); not yet checked."""
        serializer = RefreshSerializer(data=self.body)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["refresh"]


class RefreshTokenView(RefreshTokenBodyView):
    """POST /login/refresh: a new token pair for a refresh token, which stops working."""

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
    """POST /logout: revoke a refresh token."""

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
