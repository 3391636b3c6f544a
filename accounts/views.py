from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, status
from rest_framework.exceptions import NotFound, PermissionDenied, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import LoginSerializer, SignupSerializer, TokenSerializer, UserSerializer
from accounts.tokens import issue_pair
from api import schema as http_schema
from api.errors import Conflict
from api.fields import parse_path_id, request_body
from api.idempotency import idempotent
from api.openapi import error_responses
from api.throttling import LOGIN_FAILURES, SignupRateThrottle, client_address
from api.views import MethodCheckedFirst
from config import db_router

INVALID_CREDENTIALS = "Invalid Credentials"


class UserListView(MethodCheckedFirst, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [SignupRateThrottle]

    def throttled(self, request: Request, wait: float | None) -> None:
        raise Throttled(wait, detail="Too many signups from this address.")

    @extend_schema(
        summary="Sign up",
        request=SignupSerializer,
        parameters=http_schema.idempotency_parameters(),
        responses={
            201: UserSerializer,
            **error_responses(
                409,
                429,
                messages={
                    409: [
                        "User with email: alice@example.com already exists",
                        *http_schema.IN_PROGRESS_MESSAGES,
                    ],
                    429: "Too many signups from this address.",
                },
            ),
            **http_schema.IDEMPOTENT_UNPROCESSABLE,
        },
        tags=["Users"],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = SignupSerializer(data=request_body(request))
        serializer.is_valid(raise_exception=True)
        email = serializer.validated_data["email"]
        try:
            # The unique index decides between concurrent signups of one email.
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=serializer.validated_data["password"])
        except IntegrityError as exc:
            raise Conflict(f"User with email: {email} already exists") from exc
        db_router.wrote_as(user.pk)  # with replicas: the new user's reads stay on the primary a while
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailView(MethodCheckedFirst, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="Get a user",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={
            200: UserSerializer,
            **error_responses(404, 422, messages={404: "User with id: 7 does not exist"}),
        },
        tags=["Users"],
    )
    def get(self, request: Request, id: str) -> Response:
        user_id = parse_path_id(id)
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise NotFound(f"User with id: {user_id} does not exist")
        return Response(UserSerializer(user).data)


class LoginView(MethodCheckedFirst, APIView):
    """The OAuth2 password flow: form fields `username` (the email) and `password`."""

    permission_classes = [AllowAny]
    authentication_classes = []
    parser_classes = [parsers.FormParser, parsers.MultiPartParser]

    @extend_schema(
        summary="Log in",
        description="The OAuth2 password flow: form fields `username` (the email) and `password`.",
        request=LoginSerializer,
        responses={
            200: TokenSerializer,
            **error_responses(403, 422, 429, messages={403: INVALID_CREDENTIALS}),
        },
        tags=["Authentication"],
    )
    def post(self, request: Request) -> Response:
        # Counted before the password is checked and taken back unless it was wrong, so
        # concurrent guesses cannot get past the limit together.
        attempt = LOGIN_FAILURES.count(client_address(request))
        if attempt.over_limit:
            raise Throttled(attempt.retry_after, detail="Too many failed logins from this address.")
        serializer = LoginSerializer(data=request.data)
        if not serializer.is_valid():
            LOGIN_FAILURES.uncount(attempt)
            raise ValidationError(serializer.errors)
        # An unknown email costs one password hash too (ModelBackend does it), so both
        # failures take the same time and give the same answer.
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise PermissionDenied(INVALID_CREDENTIALS)
        LOGIN_FAILURES.uncount(attempt)
        return Response(issue_pair(user))
