"""Rate limits shared by every worker process through Redis, over real HTTP to gunicorn.

Needs a Redis server (TEST_REDIS_URL, testing/databases.py); skipped when
there is none, except in CI, where .ci/run starts one and a missing Redis is a failure.
"""

import json
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.models import User
from testing.databases import TEST_REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED_ORIGIN = "https://app.example.com"


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The module's `server` (testing/plugin.py): two single-threaded workers counting in the
    tests' Redis, behind one proxy, with small hourly limits."""
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"no Redis at {TEST_REDIS_URL}")
        pytest.skip(f"no Redis at {TEST_REDIS_URL}")
    return {
        "REDIS_URL": TEST_REDIS_URL,
        # Hourly windows, entered well before their end (see window_with_room), so a test's
        # requests always fall in one window.
        "LOGIN_FAILURE_RATE": "4/hour",
        "SIGNUP_RATE": "3/hour",
        "POST_RATE": "5/hour",
        # The test plays the proxy: it writes the client's address in X-Forwarded-For.
        "NUM_PROXIES": "1",
        "CORS_ALLOWED_ORIGINS": f"{ALLOWED_ORIGIN}, https://admin.example.com",
        # One request at a time per worker, so concurrent requests reach both processes (a
        # threaded worker could take them all, and per-process counts would go unnoticed).
        "GUNICORN_THREADS": "1",
        "WEB_CONCURRENCY": "2",
    }


@pytest.fixture(scope="module", autouse=True)
def both_workers_loaded(server) -> None:
    """Both workers have answered before any test measures."""
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: server.request("GET", "/health"), range(8)))


@pytest.fixture(autouse=True)
def window_with_room():
    left = 3600 - time.time() % 3600
    if left < 30:
        time.sleep(left + 0.1)


def client_address() -> str:
    # A new address per test run: Redis keeps counts for the rest of their window.
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"


def at_once(n, call):
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: call(), range(n)))


def test_failed_logins_are_counted_across_worker_processes(server):
    address = client_address()
    forwarded = {"X-Forwarded-For": address}

    def wrong_password():
        return server.post_form("/login", {"username": "nobody@example.com", "password": "x"}, forwarded)

    # A failure is counted once its password is found wrong, so the limit's 4 are sent one by one;
    # then every login from that address is refused, by whichever process answers it.
    assert [wrong_password()[0] for _ in range(4)] == [403] * 4
    answers = at_once(8, wrong_password)
    assert sorted(status for status, _, _ in answers) == [429] * 8
    # Both processes answered: with per-process counts the one that saw fewer than 4 failures
    # would have checked the password again (403).
    assert len(server.worker_pids("/login")) == 2
    _, headers, body = next(answer for answer in answers if answer[0] == 429)
    assert 0 < int(headers["retry-after"]) <= 3600
    assert json.loads(body)["detail"].startswith("Too many failed logins")

    # A right password from that address is refused too; from another one it works.
    right = {"username": "real@example.com", "password": "password123"}
    signup = json.dumps({"email": right["username"], "password": right["password"]})
    json_from_elsewhere = {"X-Forwarded-For": client_address(), "Content-Type": "application/json"}
    assert server.request("POST", "/users/", signup, json_from_elsewhere)[0] == 201
    assert server.post_form("/login", right, forwarded)[0] == 429
    # A client cannot pick a new address by sending its own X-Forwarded-For in front.
    forged = {"X-Forwarded-For": f"{client_address()}, {address}"}
    assert server.post_form("/login", right, forged)[0] == 429
    assert server.post_form("/login", right, {"X-Forwarded-For": client_address()})[0] == 200


def test_signups_are_counted_across_worker_processes(server):
    forwarded = {"X-Forwarded-For": client_address(), "Content-Type": "application/json"}

    def signup():
        body = json.dumps({"email": f"s{secrets.token_hex(6)}@example.com", "password": "password123"})
        return server.request("POST", "/users/", body, forwarded)

    answers = at_once(8, signup)
    assert sorted(status for status, _, _ in answers) == [201] * 3 + [429] * 5
    assert User.objects.count() == 3
    assert len(server.worker_pids("/users/")) == 2


def test_post_limit_and_its_headers_are_exact_across_worker_processes(server):
    address = {"X-Forwarded-For": client_address()}
    email = f"p{secrets.token_hex(6)}@example.com"
    signup = json.dumps({"email": email, "password": "password123"})
    assert (
        server.request("POST", "/users/", signup, {**address, "Content-Type": "application/json"})[0] == 201
    )
    token = server.post_form("/login", {"username": email, "password": "password123"}, address).json()[
        "access_token"
    ]
    headers = {"Content-Type": "application/json", "Origin": ALLOWED_ORIGIN, **address}

    def new_post():
        return server.request(
            "POST", "/posts/", json.dumps({"title": "t", "content": "c"}), headers, token=token
        )

    answers = at_once(8, new_post)
    assert sorted(status for status, _, _ in answers) == [201] * 5 + [429] * 3
    assert len(server.worker_pids("/posts/")) == 2
    # Each worker read the shared count: the five created posts saw 4, 3, 2, 1, 0 remaining.
    remaining = sorted(
        int(h["ratelimit"].rpartition("r=")[2].split(";")[0]) for s, h, _ in answers if s == 201
    )
    assert remaining == [0, 1, 2, 3, 4]
    for status, answer_headers, _ in answers:
        assert answer_headers["ratelimit-policy"] == '"post";q=5;w=3600'
        assert 0 < int(answer_headers["ratelimit"].rpartition("t=")[2]) <= 3600
        exposed = answer_headers["access-control-expose-headers"].lower()
        assert "ratelimit-policy" in exposed and "ratelimit" in exposed
        if status == 429:
            assert answer_headers["ratelimit"].startswith('"post";r=0;')
            assert 0 < int(answer_headers["retry-after"]) <= 3600
    assert User.objects.get(email=email).posts.count() == 5


def test_health_is_never_limited(server):
    assert {server.request("GET", "/health")[0] for _ in range(40)} == {200}


def test_cors_allows_only_the_configured_origins(server):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    status, headers, _ = server.request(
        "OPTIONS", "/login/refresh", headers={"Origin": ALLOWED_ORIGIN, **preflight}
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in headers

    status, headers, _ = server.request(
        "OPTIONS", "/login/refresh", headers={"Origin": "https://evil.example.com", **preflight}
    )
    assert "access-control-allow-origin" not in headers
