"""Logins in flight together and a hung Redis, against a real gunicorn (real processes, real
sockets): correct logins are never refused by the failure count, and a Redis that stops
answering costs tens of milliseconds and one warning, not seconds on every request."""

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from testing import PASSWORD
from testing.net import free_port
from testing.servers import gunicorn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_hasher]


@contextlib.contextmanager
def redis_server():
    """A redis-server of this test's own on a free port; yields (process, url)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on this machine (.ci/run installs it)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.05)
        yield process, f"redis://127.0.0.1:{port}/0"
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait(10)


def test_correct_logins_in_flight_together_are_all_200(make_user):
    # The configured hasher (PBKDF2): each login holds a worker thread for a while, so many are
    # in flight at once. Counted before their password was checked, some were refused (429).
    make_user("owner@example.com")
    env = {"LOGIN_FAILURE_RATE": "3/hour", "GUNICORN_THREADS": "4"}
    with redis_server() as (_, url), gunicorn({**env, "REDIS_URL": url}) as server:
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda _: server.login(password=PASSWORD).status, range(16)))
        assert statuses == [200] * 16
        # Wrong passwords still count: past 3, every login of the address is refused.
        assert [server.login(password="wrong-pass").status for _ in range(4)] == [403, 403, 403, 429]
        assert server.login(password=PASSWORD).status == 429


def test_a_hung_redis_fails_open_at_once_with_one_warning(make_user):
    make_user("owner@example.com", password=PASSWORD)
    with (
        redis_server() as (redis, url),
        gunicorn({"REDIS_URL": url, "LOGIN_FAILURE_RATE": "2/hour"}) as server,
    ):
        assert [server.login(password="wrong-pass").status for _ in range(3)] == [403, 403, 429]
        redis.send_signal(signal.SIGSTOP)  # alive, connections open, never answering
        # Each request would wait on its socket (seconds); with the client's timeouts it fails
        # open: no limit while Redis hangs, and the request is answered (timeout: 3 s each).
        statuses = [server.login(password="wrong-pass", timeout=3).status for _ in range(6)]
        assert statuses == [403] * 6
        assert server.login(password=PASSWORD, timeout=3).status == 200
        assert server.log().count("cache unavailable") <= 2  # one per worker process at most
        assert "cache unavailable" in server.log()
        redis.send_signal(signal.SIGCONT)
        # Redis answers again: the count it kept applies again.
        assert server.login(password="wrong-pass").status == 429
