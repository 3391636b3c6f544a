"""Traces (OpenTelemetry) and error reports (Sentry), each off unless configured.

gunicorn.conf.py calls ``start()`` in each worker after it is forked (``post_fork``): the
exporters' background threads and connections do not survive a fork, so each worker starts its
own. With neither ``OTEL_EXPORTER_OTLP_ENDPOINT`` nor ``SENTRY_DSN`` set, neither SDK is imported.
"""

import os
from typing import Any

from observability.log import REDACTED, redact, request_secrets

# Keys whose values Sentry's scrubber replaces, on top of its own list (which has "password",
# "token", "authorization", "cookie", ...): the names this API gives its secrets.
SECRET_KEYS = ["access", "access_token", "refresh", "refresh_token", "new_password", "old_password", "uid"]


def start() -> None:
    """Start whichever of tracing and error reporting is configured (idempotent per process)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        start_tracing()
    if os.environ.get("SENTRY_DSN"):
        start_error_reports(os.environ["SENTRY_DSN"])


def _add_request_id(span: Any, request: Any, response: Any) -> None:
    # The request id is set by observability.request_id's middleware, inside OpenTelemetry's.
    if span.is_recording() and (request_id := getattr(request, "id", None)):
        span.set_attribute("http.request_id", request_id)


def start_tracing() -> None:
    """Each request a trace, its queries child spans, exported over OTLP/HTTP (protobuf); the
    exporter reads the standard ``OTEL_*`` variables (endpoint, headers, service name...)."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    os.environ.setdefault("OTEL_SERVICE_NAME", "social-api")
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(response_hook=_add_request_id)
    PsycopgInstrumentor().instrument()


def scrub(value: Any, secrets: set[str]) -> Any:
    """``value`` with every string in it redacted as the log redacts (the request's own
    secrets, anything shaped like a JWT); dicts and lists walked."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    """Sentry's last look at an event: the current request's token and password fields, and
    JWTs anywhere (an exception's message, a local variable), become ``[redacted]``."""
    from observability.request_id import current_request

    return scrub(event, request_secrets(current_request.get()))


def start_error_reports(dsn: str) -> None:
    """Unhandled errors to Sentry, with no personal data and secrets scrubbed."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        event_scrubber=EventScrubber(denylist=[*DEFAULT_DENYLIST, *SECRET_KEYS], recursive=True),
        before_send=before_send,  # type: ignore[arg-type]
    )


__all__ = ["REDACTED", "before_send", "scrub", "start"]
