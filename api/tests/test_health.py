import json
import socket

import pytest

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
