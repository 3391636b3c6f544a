"""The one way tests start the app under a real gunicorn and talk to it over real HTTP.

`start_server` runs the image's CMD (the Dockerfile's, with the committed gunicorn.conf.py) on a
free port; the deployment tests call it through their `gunicorn` fixture, which stops every
server, failures included. `gunicorn()` wraps it for the other tests: on the test database,
optionally with collected static files, stopped on leaving the `with` block.
"""

import contextlib
import http.client
import importlib.metadata
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import dj_database_url
from django.conf import settings
from django.db import connection
from django.utils.datastructures import CaseInsensitiveMapping

REPO = Path(__file__).resolve().parents[2]
# This worktree's own Redis database (the shared machine's rule: database number = issue).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/7"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined."""
    instructions, pending = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def image_command() -> list[str]:
    """The image's CMD (exec form), exactly as the Dockerfile writes it."""
    commands = [json.loads(args) for keyword, args in dockerfile_instructions() if keyword == "CMD"]
    return commands[-1]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL naming the same database as Django's connection settings. A Unix-socket
    directory (the embedded server's HOST) goes into the host part percent-encoded."""
    user = urllib.parse.quote(settings_dict["USER"] or "", safe="")
    password = urllib.parse.quote(settings_dict["PASSWORD"] or "", safe="")
    host = urllib.parse.quote(settings_dict["HOST"] or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    credentials = f"{user}:{password}@" if password else f"{user}@"
    url = f"postgres://{credentials}{host}{port}/{urllib.parse.quote(settings_dict['NAME'], safe='')}"
    parsed = dj_database_url.parse(url)
    wanted = {key: str(settings_dict[key] or "") for key in ("HOST", "PORT", "NAME", "USER", "PASSWORD")}
    got = {key: str(parsed[key] or "") for key in wanted}
    if got != wanted:
        raise AssertionError(f"{url} parses as {got}, not {wanted}")
    return url


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name = re.split(r"[\[=<>~! ]", line)[0]
            names.add(re.sub(r"[-_.]+", "-", name).lower())
    return names


def development_only_modules() -> set[str]:
    """Top-level modules of requirements-dev.txt's own packages, which the image lacks."""
    dev_only = _requirement_names(REPO / "requirements-dev.txt") - _requirement_names(
        REPO / "requirements.txt"
    )
    return {
        module
        for module, dists in importlib.metadata.packages_distributions().items()
        if any(re.sub(r"[-_.]+", "-", dist).lower() in dev_only for dist in dists)
    }


_SITECUSTOMIZE = """\
import sys

BLOCKED = {blocked!r}


class DevelopmentRequirementsAbsent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (a development requirement; not in the image)")
        return None


sys.meta_path.insert(0, DevelopmentRequirementsAbsent())
"""


def runtime_only_pythonpath(directory: Path) -> str:
    """A directory whose sitecustomize.py makes the development requirements unimportable, so
    that processes started with it on PYTHONPATH have only what the image installs."""
    directory.mkdir(exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        _SITECUSTOMIZE.format(blocked=sorted(development_only_modules()))
    )
    return str(directory)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Response(NamedTuple):
    """Also unpacks as (status, headers, body); header names are case-insensitive."""

    status: int
    headers: CaseInsensitiveMapping
    body: bytes

    def json(self):
        return json.loads(self.body)


def http_request(
    port: int,
    method: str,
    path: str,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    json_body: object = None,
    form: dict | None = None,
    token: str | None = None,
    timeout: float | None = 15,
) -> Response:
    """One request over a new connection to 127.0.0.1:`port`: a JSON body, a form or raw bytes,
    and a bearer token if given. Raises OSError (a timeout included) when no answer comes."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return Response(answer.status, CaseInsensitiveMapping(answer.getheaders()), answer.read())
    finally:
        conn.close()


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

    def worker_pids(self, path: str) -> set[str]:
        """The workers that answered requests for the path so far (needs `access_log`)."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return {line.split()[0] for line in lines if line.split()[-1] == path}

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


def database_env(settings_dict: dict | None = None) -> dict[str, str]:
    """The original's DATABASE_* variables for a database, by default the test database (a
    socket directory works as a host). DATABASE_URL is set and empty, so neither the caller's
    value nor a .env file applies."""
    db = settings_dict or connection.settings_dict
    return {
        "DATABASE_URL": "",
        "DATABASE_HOSTNAME": db["HOST"] or "127.0.0.1",
        "DATABASE_PORT": str(db["PORT"] or 5432),
        "DATABASE_USERNAME": db["USER"] or "postgres",
        "DATABASE_PASSWORD": db["PASSWORD"] or "",
        "DATABASE_NAME": db["NAME"],
    }


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
