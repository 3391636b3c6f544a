"""Fixtures shared by every app's tests, and the quick tier (`make quick`)."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import AccessToken
from config.tests.schema_check import check_response
from posts.models import Post

PASSWORD = "password123"

# A test is `slow` when it starts processes (gunicorn, PostgreSQL, an SMTP server, a browser,
# containers) or waits on the clock: through one of these fixtures, or anywhere in its module.
# `make quick` runs the others; `make test` (and CI) runs everything.
SLOW_FIXTURES = {
    "server",
    "server_without_database",
    "gunicorn",
    "smtp_server",
    "mailbox",
    "image",
    "browser_page",
}
SLOW_SOURCE = re.compile(r"gunicorn\(|start_server|subprocess|Popen|sync_playwright|pg_cluster|time\.sleep")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow_modules: dict[object, bool] = {}
    for item in items:
        if item.path not in slow_modules:
            slow_modules[item.path] = bool(SLOW_SOURCE.search(item.path.read_text()))
        if slow_modules[item.path] or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def responses_match_schema(monkeypatch):
    """Every response of a documented route that a test receives must match /openapi.json."""
    send = Client.request

    def request(self, **kwargs):
        response = send(self, **kwargs)
        check_response(response)
        return response

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    # Every test client comes from 127.0.0.1, so each test starts with empty rate-limit counts,
    # in a local-memory cache even when REDIS_URL is set (never clear a real Redis).
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, password: str = PASSWORD, **extra) -> User:
        return User.objects.create_user(
            email=email or f"user{next(counter)}@example.com", password=password, **extra
        )

    return make


@pytest.fixture
def user(make_user) -> User:
    return make_user("owner@example.com")


@pytest.fixture
def other_user(make_user) -> User:
    return make_user("other@example.com")


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def make_post(user):
    def make(owner: User | None = None, **fields) -> Post:
        fields.setdefault("title", "a title")
        fields.setdefault("content", "some content")
        return Post.objects.create(owner=owner or user, **fields)

    return make
