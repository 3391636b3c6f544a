"""The application's Prometheus metrics, counted by every gunicorn worker together.

With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py sets it when ``METRICS_TOKEN`` is set)
each worker writes its figures to memory-mapped files in that directory, and ``GET /metrics``
(observability/views.py) adds up the files of every worker, living or gone: the client
library's multiprocess mode. Without it (tests, ``manage.py``) the figures are the process's own.

Other apps add their figures here as gauges read when scraped (``register_gauge``): the
background worker's deliveries and queue are measured from the database by whichever API worker
answers the scrape, so they are right wherever the worker runs (another container, another host).
"""

import logging
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Request durations in seconds: the API answers most requests in milliseconds; the top buckets
# catch gunicorn's 30 s timeout.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the request reaching Django to its answer, by route template and method.",
    ["route", "method"],
    buckets=DURATION_BUCKETS,
)
DB_QUERIES = Counter(
    "db_queries", "Database queries run while answering requests, by route template.", ["route"]
)
DB_QUERY_DURATION = Counter(
    "db_query_duration_seconds",
    "Time spent in database queries while answering requests, by route template.",
    ["route"],
)
RATE_LIMIT_REFUSALS = Counter(
    "rate_limit_refusals", "Requests refused past a rate limit, by limit.", ["limit"]
)


def count_refusal(sender: object, *, limit: str, **kwargs: object) -> None:
    """Receiver of api.throttling's ``limit_refused``: one refusal past the named limit (its
    scope, e.g. ``"post"``)."""
    RATE_LIMIT_REFUSALS.labels(limit=limit).inc()


_gauges: dict[str, tuple[str, Callable[[], float | Mapping[str, float] | None], str]] = {}


def register_gauge(
    name: str, documentation: str, read: Callable[[], float | Mapping[str, float] | None], label: str = ""
) -> None:
    """Expose ``read()`` as the gauge ``name`` on every scrape, e.g. the webhook queue's depth
    and the age in seconds of its oldest undelivered event. Call it from an app's
    ``AppConfig.ready()``; ``read`` returns None when it has nothing to say, and an exception it
    raises leaves the gauge out of that scrape (the rest is still served). With ``label``,
    ``read`` returns a mapping of that label's values to figures (one sample each)."""
    _gauges[name] = (documentation, read, label)


class RegisteredGauges(Collector):
    """The gauges of ``register_gauge``, read when scraped (by one worker, not summed)."""

    def describe(self) -> list:
        """Nothing: registering must not read the gauges (the default registry would call
        ``collect``, which may query the database, at import time)."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One family per registered gauge whose reader answered."""
        for name, (documentation, read, label) in list(_gauges.items()):
            try:
                value = read()
            except Exception as exc:  # one broken reader must not hide every other metric
                logger.warning("metric %s: its reader failed: %s", name, exc)
                continue
            if isinstance(value, Mapping):
                family = GaugeMetricFamily(name, documentation, labels=[label])
                for key, figure in value.items():
                    family.add_metric([key], figure)
                yield family
            elif value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)


def _register_webhook_gauges() -> None:
    """The webhook queue's depth and the age of its oldest undelivered event, read from the
    database at each scrape (webhooks.queue.queue_stats), when the webhooks app is there."""
    try:
        from webhooks.queue import deliveries_by_status, queue_stats
    except ImportError:
        return
    register_gauge(
        "webhook_deliveries",
        "Webhook deliveries by outcome: delivered (a 2xx came), failed (given up), pending.",
        deliveries_by_status,
        label="outcome",
    )
    register_gauge(
        "webhook_queue_depth",
        "Webhook deliveries not yet delivered nor given up.",
        lambda: queue_stats().depth,
    )
    register_gauge(
        "webhook_oldest_undelivered_age_seconds",
        "Seconds since the event of the oldest undelivered webhook delivery was recorded.",
        lambda: queue_stats().oldest_age,
    )
