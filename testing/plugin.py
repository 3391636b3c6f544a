"""The pytest plugin of the test kit (registered once, by the root conftest.py's
`pytest_plugins`): the quick tier, the fixtures every test gets, the frozen clock and the
`server` under gunicorn.

Every test gets: a fast password hasher (`@pytest.mark.real_hasher` keeps the configured
ones), every test-client response checked against the served schema (testing/schema_check.py),
and empty rate-limit counts in a local-memory cache.
"""

import functools
import re
from collections.abc import Iterator

import pytest
from django.test import Client

from testing import PASSWORD
from testing.clock import LIMITER_MODULES, FrozenClock
from testing.schema_check import check_response
from testing.servers import Server, gunicorn

# A test is `slow` when it starts processes (gunicorn, PostgreSQL, an SMTP server, a browser,
# containers) or waits on the clock: through one of these fixtures, or anywhere in its module;
# or when it hashes passwords for real (`real_hasher`: slow by design, a few hundred ms each).
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_hasher: the configured password hashers, not the suite's fast one"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `slow` the tests that use a SLOW_FIXTURES fixture, are marked `real_hasher`, or sit
    in a module whose source matches SLOW_SOURCE."""
    slow_modules: dict[object, bool] = {}
    for item in items:
        if item.path not in slow_modules:
            slow_modules[item.path] = bool(SLOW_SOURCE.search(item.path.read_text()))
        real_hashing = item.get_closest_marker("real_hasher") is not None
        if slow_modules[item.path] or real_hashing or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def fast_password_hasher(request: pytest.FixtureRequest) -> None:
    """MD5 instead of the configured hashers, unless the test is marked `real_hasher` (e.g.
    where real bcrypt or PBKDF2 hashes must verify)."""
    if request.node.get_closest_marker("real_hasher") is None:
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def responses_match_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every response of a documented route that a test receives must match /openapi.json
    (SchemaMismatch says where it does not)."""
    send = Client.request

    def request(self, **kwargs):
        response = send(self, **kwargs)
        check_response(response)
        return response

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings) -> None:
    """Every test client comes from 127.0.0.1, so each test starts with empty rate-limit counts,
    in a local-memory cache even when REDIS_URL is set (never clear a real Redis)."""
    from django.core.cache import cache

    from api import read_budget

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    read_budget.forget()


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """The rate limiter's clock (testing/clock.py), stopped at the first instant of a day (so
    of every window); `frozen_clock.advance(seconds)` moves it on."""
    clock = FrozenClock()
    for module in LIMITER_MODULES:
        monkeypatch.setattr(f"{module}.time", clock)
    return clock


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The environment of the module's `server` beyond the test database's; override it in a
    test module or conftest.py. WEB_CONCURRENCY is the number of workers (2 unless given)."""
    return {}


@pytest.fixture(scope="module")
def server(django_db_setup, server_env: dict[str, str]) -> Iterator[Server]:
    """The app under gunicorn on the test database (testing/servers.py `gunicorn()`) with
    `server_env`, shared by the module's tests and stopped after them. It sees committed rows
    only: use it with `django_db(transaction=True)`."""
    env = dict(server_env)
    workers = int(env.pop("WEB_CONCURRENCY", "2"))
    with gunicorn(env, workers=workers) as running:
        yield running


@functools.cache
def server_hash(password: str) -> str:
    """The password hashed as the server hashes it (this process's tests use a fast hasher)."""
    from accounts.hashers import PasslibBCryptPasswordHasher

    hasher = PasslibBCryptPasswordHasher()
    return hasher.encode(password, hasher.salt())


@pytest.fixture
def account(transactional_db):
    """A user whose password the `server` can check, committed so the server sees it."""
    from accounts.models import User

    user = User.objects.create_user(email="owner@example.com")
    user.password = server_hash(PASSWORD)
    user.save(update_fields=["password"])
    return user
