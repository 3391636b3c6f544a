"""The schema class of every endpoint (``EndpointSchema``, drf-spectacular's AutoSchema) and the
schema of the strict text field: the OpenAPI facts that follow from the base endpoint and the
strict fields are stated here, per operation and per field, where they are defined.

Which rule lives where:

- Per field (``StrictCharFieldExtension``): a field with a pattern of its own states it. Text
  refuses NUL characters (PostgreSQL cannot store them; DRF's CharField validator), which the
  API's description says once: a ``pattern`` on every text field said it 26 times in Redoc and
  made Swagger's "Try it out" fill in text generated from the pattern.
- Per field (``EndpointSchema._insert_field_validators``): a text field whose pattern allows the
  empty string is one schema, not drf-spectacular's oneOf of the pattern and an empty string
  (Redoc shows that as "string or string").
- Per operation (``EndpointSchema``), where a view does not declare the answer itself:
  401 on a non-public endpoint; 422 where a path id, a query or a body is read; 503 with ``Retry-After``
  where the database is used (outage/responses.py); 429 with ``Retry-After`` and the RateLimit
  headers where a rate limit counts the operation (api.throttling); 413 and 415 where there is a body (Django and
  DRF's parsers answer them before the view runs); 414 where the URL carries a query or path
  variables (gunicorn answers it before the app, config/gunicorn_worker.py); the body is required (a missing body is a
  422, ``Endpoint.body``); path ids are 64-bit integers, as ``parse_path_id`` reads them.
- Per view, in its ``@extend_schema``: its own answers, with their example messages.
- Globally (api.openapi.original_path_spellings): the original API's path spellings.
"""

import re
from typing import Any, Literal

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.serializers import Serializer

from api.fields import PATH_ID
from api.openapi import HTTPErrorSerializer, error_response
from outage.responses import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS

# gunicorn answers a request line over limit_request_line (4,094 bytes) before the app runs
# (config/gunicorn_worker.py puts it in the API's error shape); a client's own data (a query, a
# path variable) is what makes a URL that long.
URI_TOO_LONG = "The request line (method, path and query) is over 4,094 bytes."
# Any route with a body can be answered before its view runs: by Django when the body is too
# large, by DRF's parsers when its media type is not one the route reads.
BODY_ERRORS = {
    413: "The body is over DATA_UPLOAD_MAX_MEMORY_SIZE.",
    415: "The body is not in a media type this route reads.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "example": RETRY_AFTER_SECONDS},
    }
}
# draft-ietf-httpapi-ratelimit-headers-10, on every answer of a limited operation.
RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": "The limit: its name, quota `q` and window `w` in seconds.",
        "schema": {"type": "string", "example": '"post";q=30;w=60'},
    },
    "RateLimit": {
        "description": "What remains of it (`r`) and the seconds until its window resets (`t`).",
        "schema": {"type": "string", "example": '"post";r=29;t=41'},
    },
}


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    """The schema of ``api.fields.StrictCharField`` (and subclasses): drf-spectacular's, with the
    field's own RegexValidator's pattern if it has one (the first), and ``minLength`` 1 unless
    it allows blank text."""

    target_class = "api.fields.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict:
        """The field's schema dict, with its own ``pattern`` if it has one."""
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        validators = [v for v in self.target.validators if isinstance(v, RegexValidator)]
        patterns = [re.compile(v.regex).pattern for v in validators]
        if patterns:
            schema["pattern"] = patterns[0]
        if not self.target.allow_blank:  # what the NUL pattern's "+" used to say
            schema.setdefault("minLength", 1)
        return schema


class EndpointSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the answers and rules every endpoint (api.endpoints)
    shares, added where a view does not declare them itself (a view's own declaration, with its
    messages, wins); see the module docstring for the list. Answers are listed in status order.

    Views say what the rules need: ``public`` (no 401), ``path_ids`` (the URL's ids),
    ``uses_database = False`` (no 503).
    """

    def get_description(self) -> str:  # type: ignore[override]  # as drf-spectacular's
        """None of its own: a route's description is the one its ``@extend_schema`` declares,
        never a docstring (drf-spectacular's default), which is written for the code's readers
        and would otherwise be served from a base class for a route that declares none."""
        return ""

    def _get_paginator(self) -> Any:
        """None for api.pagination's keyset paging: its body is the page itself (a plain
        array; the paging is in headers), where drf-spectacular would name a wrapper
        component for it."""
        paginator = super()._get_paginator()
        return None if getattr(paginator, "body_is_page", False) else paginator

    def get_override_parameters(self) -> list[Any]:
        """The view's declared parameters; for a list on api.pagination's paging that declares
        no query serializer of its own, the paging's query (its ``query_serializer_class``)."""
        parameters = list(super().get_override_parameters())
        paginator = super()._get_paginator()
        if getattr(paginator, "body_is_page", False) and self._is_list_view():
            declared = any(_is_serializer(parameter) for parameter in parameters)
            if not declared:
                parameters.insert(0, paginator.query_serializer(self.view))
        return parameters

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        defaults = []
        if not getattr(self.view, "public", True):
            defaults.append(401)
        if self._path_ids() or self._has_body() or self._has_query():
            defaults.append(422)
        for status in defaults:
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error_response(status), str(status), direction=direction
                )
        return responses

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        """drf-spectacular's operation, then: 503 with ``Retry-After`` where the database is
        used; where there is a body, the body required and 413 and 415. Answers are listed in
        the order of their status codes."""
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        if getattr(self.view, "uses_database", True):
            if "503" not in responses:
                responses["503"] = self._error(f"The database does not answer (`{DATABASE_UNAVAILABLE}`).")
            responses["503"]["headers"] = {**responses["503"].get("headers", {}), **RETRY_AFTER}
        if self._limited():
            if "429" not in responses:
                responses["429"] = self._error("Past the rate limit; retry after `Retry-After` seconds.")
            responses["429"]["headers"] = {**responses["429"].get("headers", {}), **RETRY_AFTER}
            for answer in responses.values():
                answer["headers"] = {**answer.get("headers", {}), **RATE_LIMIT_HEADERS}
        if "{" in self.path or self._has_query():
            responses.setdefault("414", self._error(URI_TOO_LONG))
        if "requestBody" in operation:
            operation["requestBody"]["required"] = True
            for status, description in BODY_ERRORS.items():
                responses.setdefault(str(status), self._error(description))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error(self, description: str) -> dict:
        """An error answer (HTTPError) without examples, and without the response headers the
        view declares for its own answers (such as Idempotent-Replayed)."""
        answer = self._get_response_for_code(OpenApiResponse(HTTPErrorSerializer, description), "")
        answer.pop("headers", None)
        return {"description": answer.pop("description"), **answer}

    def _limited(self) -> bool:
        """Whether a rate limit (api.throttling.FixedWindowThrottle) counts this operation."""
        for throttle in getattr(self.view, "throttle_classes", []):
            if hasattr(throttle, "headers") and (throttle.methods is None or self.method in throttle.methods):
                return True
        return False

    def _has_body(self) -> bool:
        """Whether the operation documents a request body (as ``_get_request_body`` decides)."""
        return self._get_request_body() is not None

    def _has_query(self) -> bool:
        """Whether the view declares query parameters (a serializer, as ``parse_query`` reads
        them, or an OpenApiParameter in the query)."""
        for parameter in self.get_override_parameters():
            if isinstance(parameter, OpenApiParameter):
                if parameter.location == OpenApiParameter.QUERY:
                    return True
            elif _is_serializer(parameter):
                return True
        return False

    def _path_ids(self) -> set[str]:
        """The path's variables that are ids (``path_ids``' names, as the schema spells them)."""
        names = getattr(self.view, "path_ids", {})
        return {name for name in {*names, *names.values()} if f"{{{name}}}" in self.path}

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict]:
        """A path id's schema is that of the field that parses it (a 64-bit integer,
        ``parse_path_id``); other variables as drf-spectacular resolves them."""
        ids = self._path_ids()
        others = iter(super()._resolve_path_parameters([v for v in variables if v not in ids]))
        field = PATH_ID
        parameters = []
        for variable in variables:
            if variable in ids:
                schema = self._map_serializer_field(field, "request")
                self._insert_field_validators(field, schema)
                schema = {key: schema[key] for key in ("type", "format", "minimum", "maximum")}
                parameters.append(
                    build_parameter_type(name=variable, location=OpenApiParameter.PATH, schema=schema)
                )
            else:
                parameters.append(next(others))
        return parameters

    def _insert_field_validators(self, field: Any, schema: dict) -> None:
        """drf-spectacular's, without the blank branch when the field's pattern allows the empty
        string already."""
        super()._insert_field_validators(field, schema)
        branches = schema.get("oneOf") or []
        if len(branches) == 2 and branches[1] == {"type": "string", "maxLength": 0}:
            pattern = branches[0].get("pattern")
            if pattern is not None and re.search(pattern, ""):
                rest = {key: value for key, value in schema.items() if key != "oneOf"}
                schema.clear()
                schema.update({**branches[0], **rest})


def _is_serializer(parameter: Any) -> bool:
    """Whether a declared parameter is a serializer (class or instance): its fields are
    parameters."""
    return isinstance(parameter, Serializer) or (
        isinstance(parameter, type) and issubclass(parameter, Serializer)
    )
