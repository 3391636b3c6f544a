"""Checks an HTTP response against the OpenAPI schema the app serves.

The plugin (testing/plugin.py) runs every response the test client receives through
``check_response``: a response of a documented operation (path and method in the schema) must
have a documented status code, and its body must match that code's schema. Objects are checked closed: a key the
schema does not list is an error, so a new field cannot ship undocumented.
"""

import copy
import functools
import json
import re
import threading
from typing import Any

from django.http import HttpResponse
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class SchemaMismatch(AssertionError):
    pass


_BUILDING = threading.Lock()


def api_schema() -> dict:
    """The schema /openapi.json serves (built without a request, so without a server URL).
    Built once, by one thread: the race tests' threads may all ask for it first at once, and
    drf-spectacular's generator is not safe to run concurrently."""
    with _BUILDING:
        return _api_schema()


@functools.cache
def _api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _closed(schema: Any) -> Any:
    """A copy in which every object with listed properties refuses keys it does not list."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        if schema.get("nullable") is True and "allOf" in schema:
            # A nullable nested object (drf-spectacular's allOf of a $ref, plus nullable: the
            # only way OAS 3.0 can say it): the object, or null, as clients and generators read it.
            return {"anyOf": [schema, {"enum": [None]}]}
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@functools.cache
def _components() -> dict:
    return _closed(copy.deepcopy(api_schema().get("components", {})))


@functools.cache
def _routes() -> list[tuple[re.Pattern, str]]:
    """Each documented path as a regex; both slash spellings match, as the app serves both."""
    routes = []
    for template in api_schema()["paths"]:
        parts = re.split(r"(\{[^}/]+\})", template.rstrip("/"))
        body = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        routes.append((re.compile(f"^{body}/?$"), template))
    # Literal paths before templated ones, as the URL patterns route them: /users/me, not /users/{id}.
    return sorted(routes, key=lambda route: "{" in route[1])


def find_operation(method: str, path: str) -> tuple[str, dict] | None:
    """The documented (path template, operation) for a request, or None if undocumented."""
    for pattern, template in _routes():
        if pattern.match(path):
            operation = api_schema()["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
    return None


def validate_body(schema: dict, body: Any, where: str) -> None:
    root = {**_closed(schema), "components": _components()}
    validator = OAS30ReadValidator(root, format_checker=oas30_format_checker)
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        messages = "; ".join(f"at {list(e.absolute_path)}: {e.message}" for e in errors[:5])
        raise SchemaMismatch(f"{where}: body does not match the schema: {messages}")


# A datetime written with "Z": the contract writes the numeric offset, as the original did.
_ZULU_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$")


def _zulu_datetimes(body: Any) -> list[str]:
    if isinstance(body, dict):
        return [found for value in body.values() for found in _zulu_datetimes(value)]
    if isinstance(body, list):
        return [found for value in body for found in _zulu_datetimes(value)]
    return [body] if isinstance(body, str) and _ZULU_DATETIME.match(body) else []


def check(method: str, path: str, status: int, content_type: str, content: bytes) -> None:
    """Raise SchemaMismatch if a response of a documented operation is not as documented."""
    found = find_operation(method, path)
    if found is None or 300 <= status < 400:  # redirects come from deployment settings, not routes
        return
    template, operation = found
    where = f"{method.upper()} {path} ({template}) -> {status}"
    documented = operation["responses"].get(str(status)) or operation["responses"].get("default")
    if documented is None:
        raise SchemaMismatch(
            f"{where}: status {status} is not documented (documented: {sorted(operation['responses'])})"
        )
    media = documented.get("content")
    if not media:
        if content:
            raise SchemaMismatch(f"{where}: documented without a body, but the response has one")
        return
    media_type = content_type.split(";")[0].strip()
    if media_type not in media:
        raise SchemaMismatch(f"{where}: content type {media_type!r} is not documented ({sorted(media)})")
    schema = media[media_type].get("schema")
    if schema is not None:
        body = json.loads(content)
        validate_body(schema, body, where)
        if zulu := _zulu_datetimes(body):
            raise SchemaMismatch(f"{where}: datetimes must end in +00:00, not Z: {zulu[:3]}")


def check_response(response: HttpResponse) -> None:
    request = response.wsgi_request
    if getattr(response, "streaming", False):
        if find_operation(request.method, request.path_info) is None:
            return  # a static file, say: read only by the test, if at all
        # A streamed answer of the API is checked too: read whole here, and handed to the test
        # as one chunk (a StreamingHttpResponse's content can be read once).
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        response.streaming_content = [content]  # type: ignore[attr-defined]
    else:
        content = response.content
    check(request.method, request.path_info, response.status_code, response.get("Content-Type", ""), content)
