"""What the OpenAPI schema must say so that a client (or a fuzzer) generated from it sends
what the API accepts and expects what it answers:

- text fields refuse NUL characters (PostgreSQL cannot store them): a ``pattern`` says so;
- ids in paths are 64-bit integers;
- request bodies are required (a missing body is a 422);
- every operation with a body documents 413 and 415, which come before its view runs;
- every operation that needs the database documents 503 with ``Retry-After`` (config/outage.py).

The hook only adds what an operation does not already declare; each view declares its own
error answers (api.openapi.error_responses).
"""

import re
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from api.fields import BIGINT_MAX, BIGINT_MIN
from config.outage import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS

NO_NUL = "^[^\\x00]+$"
NO_NUL_OR_BLANK = "^[^\\x00]*$"  # one schema, not a oneOf that Redoc shows as "string or string"
INT64 = {"type": "integer", "format": "int64", "minimum": BIGINT_MIN, "maximum": BIGINT_MAX}

# Any route with a body can be answered before its view runs: by Django when the body is too
# large, by DRF's parsers when its media type is not one the route reads.
BODY_ERRORS = {
    "413": "The body is over DATA_UPLOAD_MAX_MEMORY_SIZE.",
    "415": "The body is not in a media type this route reads.",
}


# The operations that answer without a query.
NO_DATABASE = {("/", "get")}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "example": RETRY_AFTER_SECONDS},
    }
}


def _json_error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}},
    }


class NoNulCharField(OpenApiSerializerFieldExtension):
    target_class = "api.fields.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        # In both directions: one component often serves both, and no stored text holds a NUL.
        # A field with a pattern of its own states the NUL rule in it.
        # A validator's regex is a compiled Pattern once it is made (a str only on its class).
        patterns = [
            v.regex.pattern
            for v in self.target.validators
            if isinstance(v, RegexValidator) and isinstance(v.regex, re.Pattern)
        ]
        if patterns:
            schema["pattern"] = patterns[0]
        elif self.target.allow_blank:
            schema["pattern"] = NO_NUL_OR_BLANK  # document_errors() then drops the blank branch
        else:
            schema["pattern"] = NO_NUL
        return schema


BLANK_BRANCH = {"type": "string", "maxLength": 0}


def without_blank_branch(schema: dict) -> dict:
    """drf-spectacular writes a blank-allowing field with a pattern as a oneOf of the pattern and
    an empty string, which Redoc shows as "string or string"; when the pattern itself allows the
    empty string, the field's own schema says it all."""
    branches = schema.get("oneOf") or []
    if len(branches) == 2 and branches[1] == BLANK_BRANCH and branches[0].get("pattern") == NO_NUL_OR_BLANK:
        rest = {key: value for key, value in schema.items() if key != "oneOf"}
        return {**branches[0], **rest}
    return schema


def document_errors(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for schema in schemas.values():
        properties = schema.get("properties", {})
        for name, prop in properties.items():
            properties[name] = without_blank_branch(prop)
        for prop in properties.values():
            # Signup's pattern is the exact rule; validators of the "email" format disagree with
            # Django's (local parts over 64 characters), so the format is left out everywhere.
            if prop.get("format") == "email":
                del prop["format"]
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if (path, method) not in NO_DATABASE:
                unavailable = operation["responses"].setdefault(
                    "503", _json_error(f"The database does not answer (`{DATABASE_UNAVAILABLE}`).")
                )
                unavailable["headers"] = {**unavailable.get("headers", {}), **RETRY_AFTER}
            for param in operation.get("parameters", []):
                param["schema"] = without_blank_branch(param.get("schema", {}))
                if param["in"] == "path" and (param["name"] == "id" or param["name"].endswith("_id")):
                    param["schema"] = {**param.get("schema", {}), **INT64}
                    param["schema"].pop("pattern", None)
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
                for status, description in BODY_ERRORS.items():
                    operation["responses"].setdefault(status, _json_error(description))
    return result
