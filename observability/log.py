"""Log records as one JSON line each, with the request id, and with secrets taken out.

A traceback is kept in the same line (its newlines escaped by JSON), so one error is one line
that a log collector cannot split. Python's own exceptions often quote the input they choke
on (``int("hunter2")``, ``KeyError("Bearer eyJ...")``), so before a line is written every
secret of the current request (its bearer token, and any password or token field of its
body) and anything shaped like a JWT is replaced with ``[redacted]``.
"""

import json
import logging
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from django.http import HttpRequest

from observability.request_id import current_request

REDACTED = "[redacted]"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_SECRET_FIELD = re.compile(r"pass|token|refresh|secret|access", re.IGNORECASE)


def _body_fields(request: HttpRequest) -> list[tuple[str, str]]:
    body = getattr(request, "_body", None)  # only what the view has already read
    if not body:
        return []
    text = body.decode("utf-8-sig", "replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read
        return parse_qsl(text, keep_blank_values=False)
    if isinstance(data, dict):
        return [(str(key), value) for key, value in data.items() if isinstance(value, str)]
    return []


def request_secrets(request: HttpRequest | None) -> set[str]:
    if request is None:
        return set()
    secrets = set()
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization:
        secrets |= {authorization, authorization.partition(" ")[2].strip()}
    secrets |= {value for key, value in _body_fields(request) if _SECRET_FIELD.search(key)}
    # Very short values would redact ordinary words; the JWT pattern still covers tokens.
    return {secret for secret in secrets if len(secret) >= 4}


def redact(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        # Exceptions usually quote their input with repr(), which escapes some characters.
        text = text.replace(repr(secret)[1:-1], REDACTED)
    return _JWT.sub(REDACTED, text)


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Django logs each 4xx and 5xx ("Unauthorized: /posts/") after the middleware has
        # answered, outside the request's context, but names the request in the record.
        request = current_request.get()
        if request is None and isinstance(getattr(record, "request", None), HttpRequest):
            request = record.request  # type: ignore[attr-defined]  # checked just above
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(request, "id", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["traceback"] = record.exc_text
        secrets = request_secrets(request)
        return json.dumps(
            {key: redact(value, secrets) if isinstance(value, str) else value for key, value in line.items()},
            ensure_ascii=False,
        )
