import json
import socket

import pytest
from django.db import connection

from testing.assertions import assert_error
from testing.databases import database_env
from testing.db_proxy import DatabaseProxy
from testing.servers import gunicorn

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_is_ok_when_the_database_answers(api_client, path, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = api_client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_needs_no_token_and_ignores_a_bad_one(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert api_client.get("/health").status_code == 200


def test_health_is_read_only(api_client):
    assert api_client.post("/health").status_code == 405


def test_health_is_not_redirected_to_https(api_client, settings):
    # Load balancers probe over plain HTTP, behind the proxy that terminates TLS.
    settings.SECURE_SSL_REDIRECT = True
    assert api_client.get("/").status_code == 301
    assert api_client.get("/health").status_code == 200


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_health_is_503_when_the_database_is_down():
    down = {"DATABASE_HOSTNAME": "127.0.0.1", "DATABASE_PORT": str(closed_port())}
    with gunicorn(down, workers=1) as server:
        status, _, body = server.request("GET", "/health")
        assert status == 503
        assert json.loads(body) == {"detail": "Database unavailable"}
        # The process itself still serves what needs no database.
        assert server.request("GET", "/")[0] == 200


@pytest.mark.parametrize("path", ["/health/live", "/health/live/"])
def test_live_is_ok_and_asks_nothing_of_the_database(api_client, path, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/health/ready", "/health/ready/"])
def test_ready_is_ok_when_every_migration_is_applied(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_is_503_while_a_migration_is_pending(api_client):
    # The newest applied migration of an app forgotten, as on a database the new code's
    # migrate has not reached yet (rolled back with the test's transaction).
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations WHERE app = 'posts')"
        )
    response = api_client.get("/health/ready")
    assert_error(response, 503, "Migrations pending", headers={"Retry-After": "5"})
    # The process and its database still answer.
    assert api_client.get("/health/live").status_code == 200
    assert api_client.get("/health").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_live_stays_up_and_ready_follows_a_database_outage():
    proxy = DatabaseProxy(connection.settings_dict["HOST"], connection.settings_dict["PORT"])
    proxy.start()
    env = {**database_env(), "DATABASE_HOSTNAME": "127.0.0.1", "DATABASE_PORT": str(proxy.port)}
    try:
        with gunicorn(env, workers=1) as server:
            assert server.request("GET", "/health/ready").json() == {"status": "ok"}

            proxy.stop()
            # The contract's bound: within 2 s, whatever the database does.
            live = server.request("GET", "/health/live", timeout=2)
            assert live.status == 200 and live.json() == {"status": "ok"}
            ready = server.request("GET", "/health/ready", timeout=5)
            assert_error(ready, 503, "Database unavailable", headers={"Retry-After": "5"})

            proxy.start()
            assert server.request("GET", "/health/ready", timeout=5).status == 200
    finally:
        proxy.stop()
