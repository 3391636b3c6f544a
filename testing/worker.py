"""The background worker (``manage.py worker``) as a process of its own, on the test database."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from testing import REPO
from testing.databases import database_env

# Short delays so that the tests take seconds: a retry after 1 s at most, a lease of 3 s.
FAST = {
    "WEBHOOK_ALLOW_PRIVATE": "true",
    "WEBHOOK_TIMEOUT": "1",
    "WEBHOOK_RETRY_FIRST": "1",
    "WEBHOOK_RETRY_MAX_DELAY": "1",
    "MAIL_RETRY_FIRST": "1",
}


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.log = Path(tempfile.mkstemp(prefix="worker-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--interval", "0.1"],
                cwd=REPO,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then kill -9 if it has not ended within 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


def worker_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """A worker's environment: the test database, FAST, then ``env``."""
    return {
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        "REDIS_URL": "",
        "PYTHONUNBUFFERED": "1",
        **database_env(),
        **FAST,
        **(env or {}),
    }


@contextlib.contextmanager
def worker(env: dict[str, str] | None = None, *, started: bool = True) -> Iterator[Worker]:
    """A Worker on the test database (started unless ``started`` is false), stopped on exit."""
    running = Worker(worker_env(env))
    if started:
        running.start()
    try:
        yield running
    finally:
        running.stop()
        running.log.unlink(missing_ok=True)
