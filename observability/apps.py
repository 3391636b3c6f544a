from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Metrics (/metrics), traces and error reports, and the JSON access log."""

    name = "observability"

    def ready(self) -> None:
        """Count rate-limit refusals; pick up the webhook queue's gauges when that app is
        installed."""
        from api.throttling import FixedWindowLimit, limit_refused
        from observability.metrics import _register_webhook_gauges, count_refusal

        limit_refused.connect(
            count_refusal, sender=FixedWindowLimit, dispatch_uid="observability.count_refusal"
        )
        _register_webhook_gauges()
