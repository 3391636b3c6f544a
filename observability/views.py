"""GET /metrics: the Prometheus text format, for every gunicorn worker together."""

import hmac
import os

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from api.endpoints import Endpoint
from observability.metrics import RegisteredGauges

_gauges = RegisteredGauges()
REGISTRY.register(_gauges)


def scrape() -> bytes:
    """Every metric in the text format: summed over the worker processes' files in
    multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``), else this process's own."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_gauges)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


class MetricsView(Endpoint):
    """GET /metrics with ``Authorization: Bearer <METRICS_TOKEN>``; anything else (no token,
    another token, ``METRICS_TOKEN`` unset) is the 404 of an unknown path, so the endpoint
    cannot be found by probing."""

    public = True  # the token is checked here, not by the API's authentication
    throttle_classes = []
    uses_database = False

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        """The scrape; raises NotFound (404 ``Not Found``) unless the token matches."""
        token = settings.METRICS_TOKEN
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if not token or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            raise NotFound("Not Found")
        return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
