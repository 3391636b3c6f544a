"""What the OpenAPI schema must say so that a client (or a fuzzer) generated from it sends
what the API accepts and expects what it answers:

- text fields refuse NUL characters (PostgreSQL cannot store them): a ``pattern`` says so;
- ids in paths are 64-bit integers;
- request bodies are required (a missing body is a 422);
- the contract's error answers (§5) are documented on every operation that can give them.

The hook only adds what an operation does not already declare.
"""

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from config.fields import BIGINT_MAX, BIGINT_MIN

NO_NUL = "^[^\\x00]+$"  # blank strings, where allowed, are a separate oneOf branch
INT64 = {"type": "integer", "format": "int64", "minimum": BIGINT_MIN, "maximum": BIGINT_MAX}

ERROR_COMPONENTS = {
    "HTTPError": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["loc", "msg", "type"],
    },
    "HTTPValidationError": {
        "type": "object",
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
        },
        "required": ["detail"],
    },
}
# Answers particular to one operation, beyond the ones every operation of its kind can give.
EXTRA_ERRORS = {
    "login_create": {"403": "Invalid Credentials"},
    "users_create": {"409": "Email already registered"},
    "vote_create": {"404": "Post or vote not found", "409": "Already voted"},
}


class NoNulCharField(OpenApiSerializerFieldExtension):
    target_class = "config.fields.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        # In both directions: one component often serves both, and no stored text holds a NUL.
        # A field with a pattern of its own states the NUL rule in it.
        patterns = [v.regex.pattern for v in self.target.validators if isinstance(v, RegexValidator)]
        schema["pattern"] = patterns[0] if patterns else NO_NUL
        return schema


def _error(description: str, component: str = "HTTPError") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def _errors_of(operation: dict, method: str) -> dict[str, dict]:
    params = operation.get("parameters", [])
    in_path = any(param["in"] == "path" for param in params)
    authenticated = any(requirement for requirement in operation.get("security", [{}]))
    errors = {}
    if authenticated:
        errors["401"] = _error("Not authenticated, or the token is not valid")
    if authenticated and in_path and method in ("put", "patch", "delete"):
        errors["403"] = _error("Not the owner")
    if in_path:
        errors["404"] = _error("Not found")
    if "requestBody" in operation:
        errors["413"] = _error("Request body too large")
        errors["415"] = _error("Unsupported media type")
    if params or "requestBody" in operation:
        errors["422"] = _error("Validation error", "HTTPValidationError")
    for status, description in EXTRA_ERRORS.get(operation.get("operationId"), {}).items():
        errors[status] = _error(description)
    return errors


def document_errors(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ERROR_COMPONENTS.items():
        schemas.setdefault(name, schema)
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            # Signup's pattern is the exact rule; validators of the "email" format disagree with
            # Django's (local parts over 64 characters), so the format is left out everywhere.
            if prop.get("format") == "email":
                del prop["format"]
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            for param in operation.get("parameters", []):
                if param["in"] == "path" and (param["name"] == "id" or param["name"].endswith("_id")):
                    param["schema"] = {**param.get("schema", {}), **INT64}
                    param["schema"].pop("pattern", None)
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
            responses = operation.setdefault("responses", {})
            for status, response in _errors_of(operation, method).items():
                responses.setdefault(status, response)
    return result
