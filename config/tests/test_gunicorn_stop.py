"""Ctrl-C stops `make run`'s gunicorn at once, every time (config/gunicorn_worker.py)."""

import os
import signal
import subprocess
import time

import pytest

from testing.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


def test_ctrl_c_stops_every_worker_at_once():
    """Ctrl-C in a terminal sends SIGINT to the whole process group: the workers get it and,
    from the arbiter, SIGQUIT right after. Before, one stop in two or three hung a worker (its
    quit handler waiting on the thread pool's lock, held by its own thread) until the arbiter
    killed it 30 s later; four stops in a row each end within seconds."""
    for _ in range(4):
        with gunicorn({}, workers=2) as server:
            for _ in range(8):  # each worker's threads at work once: an idle pool stops in no time
                assert server.request("GET", "/posts/").status == 401
            started = time.monotonic()
            os.killpg(server.process.pid, signal.SIGINT)
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # Which of its processes are left, and where each waits, for the diagnosis.
                ps = ["ps", "-o", "pid,ppid,stat,wchan:24,etime,args", "-g", str(server.process.pid)]
                left = subprocess.run(ps, capture_output=True, text=True, check=False).stdout  # noqa: S603
                pytest.fail(f"gunicorn still running 20 s after Ctrl-C:\n{left}\n{server.log()}")
            assert time.monotonic() - started < 10
            assert "SIGKILL" not in server.log()
