"""Fixtures for the webhook tests: endpoints pointing at a receiver on loopback."""

import pytest

from webhooks.event_types import EventType
from webhooks.models import Endpoint
from webhooks.signing import new_secret


@pytest.fixture
def make_endpoint(transactional_db):
    """Make a committed, active endpoint for a URL, subscribed to every event type unless
    ``events`` is given."""

    def make(url: str, events: list[str] | None = None, **fields) -> Endpoint:
        return Endpoint.objects.create(
            url=url, events=events or list(EventType.values), secret=new_secret(), **fields
        )

    return make
