"""The app under gunicorn, as in production, on a free port and against the test database.

``gunicorn_server()`` collects the static files into a temporary STATIC_ROOT (so whitenoise
serves the hashed, compressed files, as in the image), starts gunicorn on a socket this process
bound to port 0, waits until it answers, and stops it, with its workers, on the way out.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent.parent
START_TIMEOUT = 30


def server_environment(static_root: Path) -> dict[str, str]:
    """The environment for a server process that uses this test run's database and key."""
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        DATABASE_HOSTNAME=db["HOST"] or "127.0.0.1",
        DATABASE_PORT=str(db["PORT"] or 5432),
        DATABASE_USERNAME=db["USER"] or "",
        DATABASE_PASSWORD=db["PASSWORD"] or "",
        DATABASE_NAME=db["NAME"],
        SECRET_KEY=settings.SECRET_KEY,
        STATIC_ROOT=str(static_root),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        WEB_CONCURRENCY="2",
        GUNICORN_LOG_LEVEL="warning",
    )
    return env


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own loopback server)
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer at {url} within {START_TIMEOUT}s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def gunicorn_server() -> Iterator[str]:
    """Serve the app under gunicorn; yields its base URL, e.g. ``http://127.0.0.1:41234``."""
    with tempfile.TemporaryDirectory(prefix="static-") as static_root:
        env = server_environment(Path(static_root))
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env=env,
            check=True,
        )
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
            command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
            process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                [*command, "--bind", f"fd://{listener.fileno()}"],
                cwd=BASE_DIR,
                env=env,
                pass_fds=[listener.fileno()],
                start_new_session=True,  # its own process group: stopping it stops its workers
            )
            try:
                _wait_until_up(f"{base_url}/", process)
                yield base_url
            finally:
                _stop(process)
        finally:
            listener.close()
