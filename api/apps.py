from django.apps import AppConfig


class ApiConfig(AppConfig):
    """What exists because of the contract's HTTP semantics: paging links and cursors, ETags and
    preconditions, and Idempotency-Key records."""

    name = "api"
