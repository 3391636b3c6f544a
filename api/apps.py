from django.apps import AppConfig


class ApiConfig(AppConfig):
    """What exists because of the API contract (docs/api.md): the base endpoint every view
    inherits, error bodies, strict fields, authentication, rate limits, the schema's shared
    parts, paging links and cursors, ETags and preconditions, and Idempotency-Key records."""

    name = "api"

    def ready(self) -> None:
        """Register what Django and drf-spectacular find by import: the rate-limit settings'
        system check (api.throttling) and the schema extensions (api.openapi, api.autoschema)."""
        from api import autoschema, openapi, throttling  # noqa: F401
