from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.serializers import LoginSerializer, SignupSerializer, TokenSerializer, UserSerializer
from accounts.tokens import issue_pair
from api import schema as http_schema
from api.compiled import CompiledQuery
from api.endpoints import Endpoint
from api.errors import Conflict
from api.idempotency import idempotent
from api.openapi import error_responses
from api.throttling import LoginFailureThrottle, SignupRateThrottle
from replicas import router as db_router

INVALID_CREDENTIALS = "Invalid Credentials"


class UserListView(Endpoint):
    """POST /users/: sign up (docs/api.md, "Routes"), limited per client address."""

    public = True
    throttle_classes = [SignupRateThrottle]

    @extend_schema(
        summary="Sign up",
        description="Creates a user from an email and a password (at least 8 characters, not all "
        "digits, not too similar to the email). The email is stored lower-cased.",
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
        serializer = SignupSerializer(data=self.body)
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


def _user_by_id(user_id: int) -> QuerySet[User]:
    # What ``.first()`` reads: the QuerySet in its own order, else by primary key (LIMIT 1 at run).
    users = User.objects.filter(pk=user_id)
    return users if users.ordered else users.order_by("pk")


#: A user by id, active or not (``User.objects.filter(pk=id).first()``), compiled once (api/compiled.py).
USER_BY_ID = CompiledQuery(_user_by_id, "user_id")


class UserDetailView(Endpoint):
    """GET /users/{id}: a user, to anyone."""

    public = True

    @extend_schema(
        summary="Get a user",
        description="A user's id, email and sign-up time; never a password or hash.",
        responses={
            200: UserSerializer,
            **error_responses(404, messages={404: "User with id: 7 does not exist"}),
        },
        tags=["Users"],
    )
    def get(self, request: Request, id: int) -> Response:
        found = USER_BY_ID.run(user_id=id, limit=1)
        user = found[0] if found else None
        if user is None:
            raise NotFound(f"User with id: {id} does not exist")
        return Response(UserSerializer(user).data)


class LoginView(Endpoint):
    """The OAuth2 password flow: form fields `username` (the email) and `password`. Only a
    wrong password counts as a failed login (LoginFailureThrottle settles each attempt)."""

    public = True
    parser_classes = [parsers.FormParser, parsers.MultiPartParser]
    throttle_classes = [LoginFailureThrottle]

    @extend_schema(
        summary="Log in",
        description="The OAuth2 password flow: form fields `username` (the email) and `password`.",
        request=LoginSerializer,
        responses={
            200: TokenSerializer,
            **error_responses(403, 429, messages={403: INVALID_CREDENTIALS}),
        },
        tags=["Authentication"],
    )
    def post(self, request: Request) -> Response:
        """200 with an access and a refresh token; 403 "Invalid Credentials" otherwise."""
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # An unknown email costs one password hash too (ModelBackend does it), so both
        # failures take the same time and give the same answer.
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise PermissionDenied(INVALID_CREDENTIALS)
        return Response(issue_pair(user))
