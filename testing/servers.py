"""The one way tests start the app under a real gunicorn and talk to it over real HTTP.

`start_server` runs the image's CMD (the Dockerfile's, with the committed gunicorn.conf.py) on a
free port; the deployment tests call it through their `gunicorn` fixture, which stops every
server, failures included. `gunicorn()` wraps it for the other tests: on the test database,
optionally with collected static files, stopped on leaving the `with` block. The plugin's
`server` fixture is `gunicorn()` for a whole module.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from testing import PASSWORD, REPO
from testing.databases import database_env
from testing.image import image_command, runtime_only_pythonpath
from testing.net import Response, free_port, http_request


@dataclass
class Server:
    """One gunicorn master (and its workers) in its own process group."""

    process: subprocess.Popen
    port: int
    log_path: Path
    env: dict[str, str] = field(repr=False)
    access_log: Path | None = None
    timeout: float = 15
    sigterm_sent: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        **options,
    ) -> Response:
        """`http_request` to this server; the server's timeout unless one is given."""
        options["timeout"] = options.get("timeout") or self.timeout
        return http_request(self.port, method, path, body, headers, **options)

    def post_form(self, path: str, fields: dict, headers: dict | None = None) -> Response:
        return self.request("POST", path, headers=headers, form=fields)

    def login(self, email: str = "owner@example.com", password: str = PASSWORD, **options) -> Response:
        """POST /login as the original's clients send it (an urlencoded form, the email as
        `username`); the Response as it came (200 with the tokens, 403, 422, 429)."""
        return self.request("POST", "/login", form={"username": email, "password": password}, **options)

    def worker_pids(self, path: str) -> set[str]:
        """The workers that answered requests for the path so far (needs `access_log`)."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        # Each line is JSON (observability/access_log.py), its message the access_log_format's.
        messages = [json.loads(line)["message"].split() for line in lines]
        return {message[0] for message in messages if message[-1] == path}

    def wait_until_serving(self, timeout: float = 30, workers: int = 0) -> None:
        """Until a worker answers over HTTP and `workers` workers have booted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                self.request("GET", "/", timeout=2)  # any HTTP answer means a worker is up
                if self.log().count("Booting worker") >= workers:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log()}")

    def send_sigterm(self) -> None:
        """What `docker stop` sends first."""
        if self.process.poll() is None and not self.sigterm_sent:
            self.process.send_signal(signal.SIGTERM)
            self.sigterm_sent = True

    def terminate(self, timeout: float = 40) -> int:
        """SIGTERM and wait; SIGKILL to the whole group if it will not go."""
        self.send_sigterm()
        if self.process.poll() is None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        kill_leftovers(self.process.pid)
        return self.process.returncode


def kill_leftovers(pgid: int) -> None:
    """Make sure no worker outlives its master (they hold database connections)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def start_server(
    env: dict[str, str],
    log_dir: Path,
    *,
    runtime_only: bool = True,
    access_log: bool = False,
    workers: int = 0,
) -> Server:
    """Start the image's CMD in the project directory with PORT set to a free port. With
    `runtime_only` the development requirements cannot be imported (as in the image); with
    `access_log` each request's worker pid, status and path go to a file of their own."""
    blocked = {"PYTHONPATH": runtime_only_pythonpath(log_dir / "runtime-only")} if runtime_only else {}
    env = {**os.environ, **blocked, **env}
    env.pop("GUNICORN_BIND", None)  # the image binds 0.0.0.0:$PORT
    # The image's PATH puts the virtualenv first; this one is the test run's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    last_error = None
    for _ in range(3):  # another process may take the free port before gunicorn binds it
        env["PORT"] = str(free_port())
        log_path = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log", dir=log_dir)[1])
        command = image_command()
        if access_log:
            pids = log_path.with_suffix(".access")
            command += ["--access-logfile", str(pids), "--access-logformat", "%(p)s %(s)s %(U)s"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (the Dockerfile's own CMD)
                command,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(process, int(env["PORT"]), log_path, env, pids if access_log else None)
        try:
            server.wait_until_serving(workers=workers)
            return server
        except RuntimeError as exc:
            server.terminate(timeout=5)
            last_error = exc
            if not re.search(r"already in use", server.log()):
                raise
    raise last_error


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, *, collectstatic: bool = False) -> Iterator[Server]:
    """The app on the test database with `workers` processes, all booted before this yields;
    stopped on exit, even on failure. With `collectstatic` the static files are collected into
    a temporary STATIC_ROOT first, so whitenoise serves the hashed, compressed files as in the
    image."""
    with tempfile.TemporaryDirectory(prefix="test-gunicorn-") as tmp:
        child_env = {
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "REDIS_URL": "",
            "WEB_CONCURRENCY": str(workers),
            **database_env(),
            **env,
        }
        if collectstatic:
            child_env["STATIC_MANIFEST"] = "true"
            child_env["STATIC_ROOT"] = str(Path(tmp) / "static")
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                cwd=REPO,
                env={**os.environ, **child_env},
                check=True,
            )
        server = start_server(child_env, Path(tmp), runtime_only=False, access_log=True, workers=workers)
        server.timeout = 60
        try:
            yield server
        finally:
            server.terminate(timeout=15)
