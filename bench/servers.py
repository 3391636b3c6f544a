# ruff: noqa: S310, S603  (a local tool: it runs our own commands and requests our own server)
"""The servers `make bench` measures, and the load it puts on them.

A Server is gunicorn with the project's gunicorn.conf.py serving a WSGI app (the project's
config.wsgi, or the bare app of bench/bare_app.py) on a free port of 127.0.0.1. wrk() runs one
bounded wrk round against it and returns requests/s, latency, CPU per request (the server's
processes, and the database's when it runs on this machine) and worker memory.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PROJECT_APP = "config.wsgi"
BARE_APP = "bench.bare_app:application"


def wrk(
    server: "Server", args, env: dict, duration: int, login: bool = False, connections: int | None = None
) -> dict:
    # Hashing a password is slow on purpose: login gets a few connections, a longer timeout.
    # Many connections (the viral post's 200) queue for the workers: a longer timeout, so that
    # a queued request is not counted as failed (nor retried while the server still answers it).
    timeout = "10s" if login or connections else "3s"
    connections = 4 if login else connections or args.connections
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", timeout]
    cmd += ["-s", str(ROOT / "bench" / "wrk.lua"), server.url]
    if server.process is None:
        raise RuntimeError("start() the server first")
    server.sampler.reset()
    cpu_before = cpu_seconds(server.process.pid), cpu_seconds(server.database_pid)
    out = subprocess.run(
        cmd, env={**os.environ, **env, "BENCH_THREADS": "2"}, capture_output=True, text=True,
        timeout=duration + 30, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    app_cpu, db_cpu = (
        cpu_seconds(pid) - before
        for pid, before in zip((server.process.pid, server.database_pid), cpu_before, strict=True)
    )
    requests = max(data["requests"], 1)
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        # CPU per request barely moves with the neighbours' load, unlike requests/s.
        "app_cpu_ms": 1000 * app_cpu / requests,
        "db_cpu_ms": 1000 * db_cpu / requests if server.database_pid else None,
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "failed": data["non2xx"] + data["errors"],
        "rss_mib": server.sampler.peak(),
    }


# The per-user write limits (POST_RATE, VOTE_RATE, COMMENT_RATE) lifted: the write scenarios
# post as fast as their clients can, and would otherwise measure 429s.
NO_WRITE_LIMITS = {
    "POST_RATE": "1000000/minute",
    "VOTE_RATE": "1000000/minute",
    "COMMENT_RATE": "1000000/minute",
}
# The per-user bounds of searches lifted (api/read_budget.py: one in progress per user, and their
# time's share): the search scenario sends one user's searches over 16 connections, and would
# otherwise measure 429s. Each search still takes and gives back its slot. The abuse scenario
# serves without this.
NO_SEARCH_LIMITS = {"EXPENSIVE_READS_IN_FLIGHT": "1000", "EXPENSIVE_READ_SHARE": "100"}


class Server:
    """gunicorn serving `app` (a WSGI module:callable) from the code in `root` (this checkout by
    default), with `env` added to the environment, under the project's gunicorn.conf.py."""

    log_prefix = "bench-gunicorn-"  # of its log file's name, in the temporary folder

    def __init__(self, root: Path = ROOT, env: dict[str, str] | None = None, app: str = PROJECT_APP) -> None:
        self.root = root
        self.app = app
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix=self.log_prefix, suffix=".log", delete=False)  # noqa: SIM115
        self.sampler = RssSampler()
        self.database_pid: int | None = None  # the PostgreSQL server, when it runs on this machine
        self.cpus = ""  # taskset's CPU list for the server ("0": one core), or "" for all

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command, env = self.command(port)
        self.process = subprocess.Popen(
            command, cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        program = Path(command[0]).name
        for _ in range(150):
            if self.process.poll() is not None:
                raise SystemExit(f"{program} exited; see {self.log.name}")
            try:
                if self.status("/", "") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        self.sampler.start(self.process.pid)
        print(f"{self.describe()} on {self.url}, log {self.log.name}", flush=True)

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        """The command line that serves on 127.0.0.1:`port` (run from `root`), and its whole
        environment."""
        env = {**os.environ, **self.extra_env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        pinned = ["taskset", "-c", self.cpus] if self.cpus else []
        return [*pinned, str(Path(PYTHON).parent / "gunicorn"), self.app, "-c", "gunicorn.conf.py"], env

    def describe(self) -> str:
        """What start() prints before the address."""
        return f"gunicorn ({self.app})"

    def stop(self) -> None:
        self.sampler.stop()
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def status(self, path: str, token: str) -> int:
        return self.get(path, token)[0]

    def get(self, path: str, token: str) -> tuple[int, bytes]:
        """The status and body of ``GET path``, with the bearer token if one is given."""
        request = urllib.request.Request(self.url + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def login(self, email: str, password: str) -> str:
        body = urllib.parse.urlencode({"username": email, "password": password}).encode()
        with urllib.request.urlopen(self.url + "/login", data=body, timeout=30) as response:
            return json.load(response)["access_token"]


def same_answer(project: Server, bare: Server, path: str, token: str) -> None:
    """Stop unless both servers answer `path` 200 with the same body, byte for byte (the
    project's answer to a list changes only when the data does)."""
    answers = project.get(path, token), bare.get(path, token)
    if answers[0] != answers[1] or answers[0][0] != 200:
        raise SystemExit(f"the bare app's answer to {path} differs from the project's: {answers}")


class RssSampler:
    """Peak resident memory (VmHWM) of each gunicorn worker, sampled while wrk runs."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self.window: dict[int, float] = {}
        self.stopping = threading.Event()

    def start(self, master: int) -> None:
        self.master = master
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def reset(self) -> None:
        self.window = {}

    def peak(self) -> float:
        self._sample()
        return max(self.window.values(), default=0.0)

    def take_all(self) -> dict[int, float]:
        peaks, self.peaks = self.peaks, {}
        return peaks

    def _loop(self) -> None:
        while not self.stopping.wait(0.25):
            self._sample()

    def _sample(self) -> None:
        for pid in children(self.master):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kib = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:")), 0)
            for table in (self.peaks, self.window):
                table[pid] = max(table.get(pid, 0.0), kib / 1024)


def cpu_seconds(root: int | None) -> float:
    """CPU time used by a process and its children, the running ones and those already reaped."""
    if root is None:
        return 0.0
    ticks = 0
    for pid in [root, *children(root)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == root:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children that exited
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing the Debian package", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    run([*sudo, "apt-get", "update", "-qq"])
    run(
        [*sudo, "apt-get", "install", "-y", "-qq", "wrk"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def run(cmd: list[str], env: dict | None = None) -> None:
    """Run a step; when it fails, stop the benchmark with its exit status (the step has already
    said why: seed's refusal of a database holding other users, for one)."""
    result = subprocess.run(cmd, check=False, env=env)
    if result.returncode:
        raise SystemExit(result.returncode)
