from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """Metrics (/metrics), traces and error reports, and the JSON access log."""

    name = "observability"

    def ready(self) -> None:
        """Pick up the webhook queue's gauges when that app is installed."""
        from observability.metrics import _register_webhook_gauges

        _register_webhook_gauges()
