"""Fixtures for the deployment tests: gunicorn processes on the test database, and the image
built with podman (deploy/tests/containers.py)."""

from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connection

from deploy.tests import containers
from testing.databases import TEST_REDIS_URL, database_url
from testing.image import runtime_only_pythonpath
from testing.servers import Server, start_server


@pytest.fixture
def server_env(transactional_db, tmp_path) -> dict[str, str]:
    """What the image is given: the test database (the subprocess sees committed rows only,
    hence transactional_db), the tests' Redis database (TEST_REDIS_URL) and the test run's signing key;
    and what it has: the runtime requirements only."""
    return {
        "PYTHONPATH": runtime_only_pythonpath(tmp_path / "runtime-only"),
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "WEB_CONCURRENCY": "2",
        "DEBUG": "false",
    }


@pytest.fixture
def gunicorn(server_env, tmp_path) -> Iterator[Callable[..., Server]]:
    """Start gunicorn as the image does; every server started is stopped afterwards."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = start_server({**server_env, **env}, tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:  # all at once, then wait for each
        server.send_sigterm()
    for server in started:
        server.terminate(timeout=10)


@pytest.fixture(scope="session")
def image() -> Iterator[containers.Image]:
    """The image built once for the run from the Dockerfile as it is; removed at the end.
    Skipped (failed in CI) where podman or the stand-in base images are missing."""
    containers.require_podman()
    built = containers.build_image()
    yield built
    containers.remove_image(built)


def pytest_terminal_summary(terminalreporter) -> None:
    """Say what the container tests ran on: stand-ins or the official images, and podman."""
    if containers.report:
        terminalreporter.section("container tests")
        for line in containers.report:
            terminalreporter.write_line(line)
