"""GET /metrics: the token guard, and what it counts (in-process; across gunicorn's workers
with a real Prometheus server: test_prometheus.py)."""

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from observability.middleware import route_template
from testing.assertions import assert_error
from testing.clients import client_for
from webhooks import events
from webhooks.models import Delivery, Endpoint
from webhooks.signing import new_secret

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape() -> str:
    client = APIClient()  # a new client: Django builds its middleware with the settings of now
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the scrape (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == f"{name}{{{wanted}}}" or (not labels and series == name):
            return float(value)
    return 0.0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": TOKEN},
        {"HTTP_AUTHORIZATION": "Basic x"},
    ],
)
def test_without_the_token_metrics_is_not_found(metrics_on, headers):
    assert_error(APIClient().get("/metrics", **headers), 404, "Not Found")


def test_with_metrics_token_unset_even_an_empty_bearer_is_not_found(settings):
    settings.METRICS_TOKEN = ""
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer "}, {"HTTP_AUTHORIZATION": "Bearer None"}):
        assert_error(APIClient().get("/metrics", **headers), 404, "Not Found")


def test_requests_are_counted_by_route_template_method_and_status(metrics_on, user, make_post):
    post = make_post()
    before = scrape()
    client = client_for(user)
    for _ in range(3):
        assert client.get(f"/posts/{post.pk}").status_code == 200
    assert client.get("/posts/999999").status_code == 404
    assert APIClient().get("/no/such/path").status_code == 404
    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("http_requests_total", method="GET", route="/posts/{pk}", status="200") == 3
    assert grew("http_requests_total", method="GET", route="/posts/{pk}", status="404") == 1
    assert grew("http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert f"/posts/{post.pk}" not in after  # never the raw path
    assert grew("http_request_duration_seconds_count", method="GET", route="/posts/{pk}") == 4
    assert grew("db_queries_total", route="/posts/{pk}") >= 4
    assert grew("db_query_duration_seconds_total", route="/posts/{pk}") > 0


def test_rate_limit_refusals_are_counted_by_limit(metrics_on, settings, user, frozen_clock):
    settings.POST_RATE = "1/minute"
    before = sample(scrape(), "rate_limit_refusals_total", limit="post")
    client = client_for(user)
    answers = [
        client.post("/posts/", {"title": "t", "content": "c"}, format="json").status_code for _ in range(3)
    ]
    assert answers == [201, 429, 429]
    assert sample(scrape(), "rate_limit_refusals_total", limit="post") - before == 2


def test_registered_gauges_are_read_when_scraped(metrics_on):
    from observability import metrics

    metrics.register_gauge("test_queue_depth", "A queue, for the test.", lambda: 7)
    metrics.register_gauge("test_broken", "A reader that fails.", lambda: 1 / 0)
    try:
        text = scrape()
    finally:
        metrics._gauges.pop("test_queue_depth")
        metrics._gauges.pop("test_broken")
    assert sample(text, "test_queue_depth") == 7
    assert "test_broken" not in text


@pytest.mark.parametrize(
    ("route", "template"),
    [("^posts/(?P<pk>[^/]+)/?$", "/posts/{pk}"), ("^$", "/"), ("^openapi\\.json/?$", "/openapi.json")],
)
def test_route_templates(route, template):
    assert route_template(route) == template


def test_the_webhook_queue_is_measured_when_scraped(metrics_on):
    text = scrape()
    assert "# TYPE webhook_queue_depth gauge" in text
    assert sample(text, "webhook_queue_depth") == 0
    assert sample(text, "webhook_oldest_undelivered_age_seconds") == 0
    assert 'webhook_deliveries{outcome="delivered"} 0.0' in text


def test_webhook_deliveries_are_counted_by_outcome_when_scraped(metrics_on, user):
    Endpoint.objects.create(url="https://hooks.example.com/", events=["post.created"], secret=new_secret())
    for _ in range(4):
        with transaction.atomic():
            events.record("post.created", {"post_id": 1, "user_id": user.id})
    deliveries = list(Delivery.objects.order_by("pk"))
    assert len(deliveries) == 4
    for delivery, status in zip(deliveries, ["delivered", "delivered", "failed"], strict=False):
        Delivery.objects.filter(pk=delivery.pk).update(status=status)
    text = scrape()
    assert sample(text, "webhook_deliveries", outcome="delivered") == 2
    assert sample(text, "webhook_deliveries", outcome="failed") == 1
    assert sample(text, "webhook_deliveries", outcome="pending") == 1
    assert sample(text, "webhook_queue_depth") == 1
