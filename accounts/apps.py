from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI description of the bearer token (drf-spectacular extension).
        import config.schema  # noqa: F401

        # Registers the system check of the rate-limit settings.
        from config import ratelimit  # noqa: F401
