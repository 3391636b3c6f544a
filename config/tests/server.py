"""Run the app under gunicorn, as production does, for tests that need real HTTP."""

import contextlib
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_env() -> dict[str, str]:
    """The test database, through the original's variables (they also take a socket directory)."""
    db = connection.settings_dict
    return {
        "DATABASE_URL": "",  # set and empty, so neither the caller's value nor a .env file applies
        "DATABASE_HOSTNAME": db["HOST"] or "127.0.0.1",
        "DATABASE_PORT": str(db["PORT"] or 5432),
        "DATABASE_USERNAME": db["USER"] or "postgres",
        "DATABASE_PASSWORD": db["PASSWORD"] or "",
        "DATABASE_NAME": db["NAME"],
    }


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 2) -> Iterator["Server"]:
    """Serve the app on a free port with `workers` processes; stopped on exit, even on failure."""
    logs = Path(tempfile.mkdtemp(prefix="test-gunicorn-"))
    child_env = {
        **os.environ,
        "SECRET_KEY": settings.SECRET_KEY,
        "REDIS_URL": "",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_BIND": "127.0.0.1:0",
        **database_env(),
        **env,
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
    # The pid of the worker that answered, on each access-log line.
    command += ["--access-logfile", str(logs / "access.log"), "--access-logformat", "%(p)s %(s)s %(U)s"]
    command += ["--error-logfile", str(logs / "error.log")]
    process = subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        port = _wait_until_serving(process, logs / "error.log", workers)
        yield Server(port, logs / "access.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(logs, ignore_errors=True)


def _wait_until_serving(process: subprocess.Popen, error_log: Path, workers: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = error_log.read_text() if error_log.exists() else ""
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{text}")
        listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if listening and text.count("Booting worker") >= workers:
            return int(listening[1])
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start:\n{error_log.read_text()}")


class Server:
    def __init__(self, port: int, access_log: Path) -> None:
        self.port = port
        self.access_log = access_log

    def request(
        self, method: str, path: str, body: str | bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on its own connection: (status, headers with lower-case names, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def post_form(self, path: str, fields: dict, headers: dict | None = None) -> tuple[int, dict, bytes]:
        form_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, urlencode(fields), form_headers)

    def worker_pids(self, path: str) -> set[str]:
        """The workers that answered requests for the path so far."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return {line.split()[0] for line in lines if line.split()[-1] == path}
