"""A real gunicorn serving this project on a free port, for tests that need real HTTP."""

import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class Server:
    port: int
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, body: bytes | str = b"", headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


def database_env(settings_dict: dict) -> dict[str, str]:
    """The original's DATABASE_* variables for a database (a socket directory works as a host)."""
    return {
        "DATABASE_URL": "",
        "DATABASE_HOSTNAME": settings_dict["HOST"] or "127.0.0.1",
        "DATABASE_PORT": str(settings_dict["PORT"] or 5432),
        "DATABASE_USERNAME": settings_dict["USER"] or "postgres",
        "DATABASE_PASSWORD": settings_dict["PASSWORD"] or "",
        "DATABASE_NAME": settings_dict["NAME"],
    }


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[Server]:
    """Start gunicorn with the project's gunicorn.conf.py on a port the kernel picks."""
    with tempfile.TemporaryDirectory(prefix="issue6-gunicorn-") as tmp:
        stderr_path = Path(tmp) / "stderr.log"
        full_env = {
            **os.environ,
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "GUNICORN_BIND": "127.0.0.1:0",
            "WEB_CONCURRENCY": "2",
            **env,
        }
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(  # noqa: S603 (our own executable and arguments)
                [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-c", "gunicorn.conf.py"],
                cwd=BASE_DIR,
                env=full_env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        try:
            server = Server(_wait_for_port(process, stderr_path), stderr_path)
            yield server
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_for_port(process: subprocess.Popen, stderr_path: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{stderr_path.read_text(errors='replace')}")
        if match := _LISTENING.search(stderr_path.read_text(errors="replace")):
            port = int(match.group(1))
            if _answers(port):
                return port
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start:\n{stderr_path.read_text(errors='replace')}")


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
