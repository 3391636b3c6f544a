"""Run the API as the image does (its CMD, with the committed gunicorn.conf.py) and talk to it
over real HTTP. Used by the deployment tests; every process started here is stopped by the
`gunicorn` fixture in conftest.py, failures included."""

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
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url

REPO = Path(__file__).resolve().parents[2]
# This worktree's own Redis database (the shared machine's rule: database number = issue).
TEST_REDIS_URL = "redis://127.0.0.1:6379/7"


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


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    """One gunicorn master (and its workers) in its own process group."""

    process: subprocess.Popen
    port: int
    log_path: Path
    env: dict[str, str] = field(repr=False)
    sigterm_sent: bool = False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: object = None,
        form: dict | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 15,
    ) -> Response:
        headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
        finally:
            conn.close()

    def wait_until_serving(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                self.request("GET", "/", timeout=2)  # any HTTP answer means a worker is up
                return
            except OSError:
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


def start_server(env: dict[str, str], log_dir: Path) -> Server:
    """Start the image's CMD in the project directory with PORT set to a free port."""
    env = {**os.environ, "PYTHONPATH": runtime_only_pythonpath(log_dir / "runtime-only"), **env}
    env.pop("GUNICORN_BIND", None)  # the image binds 0.0.0.0:$PORT
    # The image's PATH puts the virtualenv first; this one is the test run's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    last_error = None
    for _ in range(3):  # another process may take the free port before gunicorn binds it
        env["PORT"] = str(free_port())
        log_path = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log", dir=log_dir)[1])
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (the Dockerfile's own CMD)
                image_command(),
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(process, int(env["PORT"]), log_path, env)
        try:
            server.wait_until_serving()
            return server
        except RuntimeError as exc:
            server.terminate(timeout=5)
            last_error = exc
            if not re.search(r"Address already in use", server.log()):
                raise
    raise last_error


def redis_command(url: str, *args: str) -> bytes:
    """One command to Redis, in its wire protocol (the tests need no Redis client)."""
    parts = urllib.parse.urlsplit(url)
    database = parts.path.lstrip("/") or "0"

    def encode(*words: str) -> bytes:
        out = f"*{len(words)}\r\n".encode()
        for word in words:
            data = word.encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        return out

    with socket.create_connection((parts.hostname, parts.port or 6379), timeout=5) as sock:
        sock.sendall(encode("SELECT", database) + encode(*args))
        reply = b""
        while reply.count(b"\r\n") < 2:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply
