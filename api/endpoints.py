"""The base endpoint every view inherits, after Sentry's ``Endpoint(APIView)``: the contract's
cross-cutting rules live here once, so a view is contract-correct by inheriting them.

``Endpoint`` (an ``APIView``) and ``EndpointViewSet`` (a ``GenericViewSet``) share one mixin,
which owns:

- 405 before 401: a method the route does not serve is refused before authentication, as the
  original API does (DRF would authenticate first and answer 401).
- Path ids: the URL's ``id``/``pk`` arguments reach the handler as integers; one that is not a
  64-bit integer is the contract's 422 at ``["path", "id"]``, after authentication, permissions
  and rate limits, before the handler (Sentry's ``convert_args``).
- ``body``: the parsed request body, where a request with no body at all is a 422 at
  ``["body"]`` (FastAPI's "Field required" for a required body).
- ``public = True``: no authentication and ``AllowAny``; every other endpoint needs a bearer
  token (``IsAuthenticated``, the project's default: permissions fail closed).
- Reads of a non-public endpoint are marked per caller: ``Cache-Control: private`` and
  ``Vary: Authorization`` (docs/api.md, "HTTP semantics").
- Throttles that settle after the answer (``api.throttling.LoginFailureThrottle``) are told the
  response; a refusing throttle's ``message`` is the 429's ``detail``; a throttle's
  ``headers()`` (``RateLimit-Policy``, ``RateLimit``) go on every answer, 429s included.
- The schema's default answers and rules (``api.autoschema.EndpointSchema``).
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from rest_framework import exceptions, serializers, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import ErrorDetail
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from api.autoschema import EndpointSchema
from api.conditional import mark_private
from api.errors import RequestValidationError
from api.fields import PATH_ID

if TYPE_CHECKING:
    # What DRF calls has_permission on: a BasePermission or a composition of them
    # (``IsAuthenticated & IsOwner``); djangorestframework-stubs' name for it.
    from rest_framework.permissions import _SupportsHasPermission


def parse_path_id(value: str, name: str = "id") -> int:
    """A path id as an integer; raises the contract's 422 (RequestValidationError) with loc
    ``["path", name]`` for anything but a 64-bit integer."""
    try:
        return PATH_ID.run_validation(value)
    except serializers.ValidationError as exc:
        raise RequestValidationError({name: exc.detail}, location="path") from exc


def parse_query(serializer_class: type[serializers.Serializer], query: Any) -> dict:
    """Query parameters validated by ``serializer_class``; raises the contract's 422
    (RequestValidationError) with loc ``["query", ...]``."""
    # A plain dict: with a QueryDict, DRF reads "?limit=" as "not given" and uses the default.
    serializer = serializer_class(data={key: query.get(key) for key in query})
    if not serializer.is_valid():
        raise RequestValidationError(serializer.errors, location="query")
    return serializer.validated_data


if TYPE_CHECKING:
    # To the type checker the mixin is the APIView it is always mixed into, so that its calls
    # to ``super()`` and its reads of ``request``, ``kwargs``... are checked against DRF's.
    _MixinBase = APIView
else:
    _MixinBase = object


class EndpointMixin(_MixinBase):
    """The contract's rules for a DRF view; see the module docstring. Mixed into APIView and
    GenericViewSet only (it relies on their ``initial``, ``finalize_response`` and hooks)."""

    #: True: anyone may call it, with no authentication (and no private-cache marking).
    public = False
    #: URL keyword arguments that are ids, and their names in a 422's ``loc``. ``pk`` (a
    #: router's) is ``id``, as the schema names it (drf-spectacular's SCHEMA_COERCE_PATH_PK).
    path_ids = {"id": "id", "pk": "id"}
    #: False: the endpoint answers without the database (the schema lists no 503 for it).
    uses_database = True
    schema: ViewInspector | None = EndpointSchema()

    def get_authenticators(self) -> list[BaseAuthentication]:
        """None for a public endpoint, else the view's (the settings' bearer token)."""
        return [] if self.public else super().get_authenticators()

    def get_permissions(self) -> "Sequence[_SupportsHasPermission]":
        """``AllowAny`` for a public endpoint, else the view's (``IsAuthenticated`` by default)."""
        return [AllowAny()] if self.public else super().get_permissions()

    def get_throttles(self) -> list[BaseThrottle]:
        """The view's throttles, made once per request, so that ``finalize_response`` settles
        the very ones that counted it."""
        if not hasattr(self, "_throttles"):
            self._throttles = super().get_throttles()
        return self._throttles

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """405 for a method the route does not serve, before DRF authenticates (else 401),
        checks permissions and throttles; then path ids are parsed (422)."""
        # DRF's Request always has a method (Django's test client and servers set it).
        method_name = request.method or ""
        method = method_name.lower()
        unserved_options = method == "options" and self.metadata_class is None
        if method not in self.http_method_names or not hasattr(self, method) or unserved_options:
            raise exceptions.MethodNotAllowed(method_name)
        super().initial(request, *args, **kwargs)
        # DRF hands `self.kwargs` itself to the handler, so converted values reach it.
        self.kwargs.update(self.convert_kwargs(request, **kwargs))

    def convert_kwargs(self, request: Request, **kwargs: Any) -> dict[str, Any]:
        """The URL keyword arguments to replace before the handler runs: each of ``path_ids``
        as an integer. Raises RequestValidationError (422 at ``["path", "id"]``)."""
        return {
            name: parse_path_id(value, self.path_ids[name])
            for name, value in kwargs.items()
            if name in self.path_ids
        }

    @property
    def body(self) -> Any:
        """The parsed body (``request.data``). Raises RequestValidationError (422 at ``["body"]``,
        "Field required") for a request with no body at all, and what ``request.data`` raises:
        ParseError (422 ``json_invalid``), UnsupportedMediaType (415)."""
        if self.request.stream is None:
            raise RequestValidationError([ErrorDetail("Field required", code="required")])
        return self.request.data

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        """Raise the 429 (Throttled, ``wait`` in seconds or None), with the refusing throttle's
        ``message`` as its detail if it has one."""
        messages = [
            message
            for throttle in self.get_throttles()
            if getattr(throttle, "refused", False) and (message := getattr(throttle, "message", None))
        ]
        raise exceptions.Throttled(wait, detail=messages[0] if messages else None)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """Settle the throttles that wait for the answer, send their RateLimit headers, and mark
        reads of a non-public endpoint ``Cache-Control: private``, ``Vary: Authorization``."""
        response = super().finalize_response(request, response, *args, **kwargs)
        limits: dict[str, list[str]] = {}
        for throttle in self.get_throttles():
            if settle := getattr(throttle, "settle", None):
                settle(request, response)
            # RateLimit-Policy and RateLimit on every answer of a limited route, 429s included.
            for name, item in (throttle.headers() if hasattr(throttle, "headers") else {}).items():
                limits.setdefault(name, []).append(item)
        for name, items in limits.items():
            response[name] = ", ".join(items)
        if not self.public:
            mark_private(request, response)
        return response


class Endpoint(EndpointMixin, APIView):
    """The base of every APIView of the API: DRF's APIView with the contract's rules (see the
    module docstring). Set ``public = True`` for a route anyone may call."""


class EndpointViewSet(EndpointMixin, viewsets.GenericViewSet):
    """The base of every ViewSet of the API (see the module docstring). Request data handed to
    a serializer goes through ``body``, so DRF's mixins answer a missing body as the contract
    does."""

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer:
        """DRF's, with ``data`` read through ``body`` (422 at ``["body"]`` when there is none)."""
        if "data" in kwargs:
            kwargs["data"] = self.body
        return super().get_serializer(*args, **kwargs)
