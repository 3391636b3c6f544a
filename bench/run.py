# ruff: noqa: S310, S603  (a local tool: it runs our own commands and requests our own server)
"""`make bench`: the app served as in production, under wrk, at 1k and at 1M posts.

Gunicorn runs with the project's gunicorn.conf.py, DEBUG off, a SECRET_KEY and persistent
database connections, on a free port of 127.0.0.1. One server serves both sizes, so worker
memory is compared across them. The database is the embedded PostgreSQL unless DATABASE_URL
is set. Every wrk run is bounded by --duration; the server is stopped at the end, on failure too.
"""

import argparse
import json
import os
import platform
import secrets
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
import warnings
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
PASSWORD = "bench-password-123"  # noqa: S105 (the seeded users' password)
SIZES = {
    "1k": {"users": 100, "posts": 1_000, "votes": 5_000},
    "1M": {"users": 10_000, "posts": 1_000_000, "votes": 3_000_000},
}
READS = ["GET /", "list", "search", "top", "get one"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1k,1M", help="comma-separated, from: " + ",".join(SIZES))
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per scenario; the best is kept")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--allow-existing-data",
        metavar="DATABASE_NAME",
        default="",
        help="reseed a database that also holds users the seed did not create (see manage.py seed)",
    )
    args = parser.parse_args()
    ensure_wrk()
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.chdir(ROOT)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"])

    import django

    warnings.filterwarnings("ignore", message="No directory at")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench import probe, revocation

    print(machine(probe.postgres_version()), flush=True)
    server = Server()
    server.database_pid = probe.postmaster_pid()
    results: dict[str, list[dict]] = {}
    try:
        server.start()
        for size in args.sizes.split(","):
            results[size] = bench_size(server, size, args, probe, revocation)
    finally:
        server.stop()
    print(report(results), flush=True)


def bench_size(
    server: "Server", size: str, args: argparse.Namespace, probe: ModuleType, revocation: ModuleType
) -> list[dict]:
    counts = SIZES[size]
    started = time.monotonic()
    options = [f"--{k}={v}" for k, v in counts.items()] + [f"--password={PASSWORD}"]
    if args.allow_existing_data:
        options.append(f"--allow-existing-data={args.allow_existing_data}")
    run([PYTHON, "manage.py", "seed", *options])
    print(f"== {size}: seeded in {time.monotonic() - started:.0f} s", flush=True)
    token = server.login("user1@example.com", PASSWORD)
    post_id, vote_posts = probe.pick_posts(user_email="user1@example.com")
    login_body = urllib.parse.urlencode({"username": "user2@example.com", "password": PASSWORD})
    scenarios = [
        ("GET /", {"BENCH_PATH": "/"}),
        ("list", {"BENCH_PATH": "/posts/?limit=10"}),
        ("search", {"BENCH_PATH": "/posts/?limit=10&search=django"}),
        ("top", {"BENCH_PATH": "/posts/?limit=10&sort=top"}),
        ("get one", {"BENCH_PATH": f"/posts/{post_id}"}),
        ("me", {"BENCH_PATH": "/users/me"}),
        ("vote", {"BENCH_MODE": "vote", "BENCH_VOTE_POSTS": ",".join(map(str, vote_posts[:-1]))}),
        ("login", {"BENCH_MODE": "login", "BENCH_LOGIN_BODY": login_body}),
    ]
    wrk(server, args, {"BENCH_PATH": "/posts/?limit=10", "BENCH_TOKEN": token}, 3)  # warm up
    rows = []
    for name, env in scenarios:
        env = {"BENCH_MODE": "get", "BENCH_TOKEN": token, **env}
        row = {"scenario": name}
        status = server.status(env.get("BENCH_PATH", "/"), token) if env["BENCH_MODE"] == "get" else 200
        if status != 200:
            row["note"] = f"not available (HTTP {status})"
        else:
            rounds = []
            for _ in range(args.rounds):
                if name == "vote":  # each round starts its cycle with none of these posts voted
                    time.sleep(1)  # the requests wrk left in flight are answered first
                    probe.clear_votes(user_email="user1@example.com", post_ids=vote_posts)
                rounds.append(wrk(server, args, env, args.duration, login=name == "login"))
            # Neighbours on a shared machine only ever slow a round down: keep the best one.
            row.update(max(rounds, key=lambda r: r["rps"]), rss_mib=max(r["rss_mib"] for r in rounds))
            row["failed"] = sum(r["failed"] for r in rounds)
        row["queries"] = probe.queries(name, env, token, PASSWORD, spare_post=vote_posts[-1])
        print(f"   {name:8} {json.dumps(row)}", flush=True)
        rows.append(row)
    workers = server.sampler.take_all()
    print(f"   worker peak RSS (MiB): {sorted(round(v) for v in workers.values())}", flush=True)
    check = revocation.measure(token)
    me = next((r for r in rows if r["scenario"] == "me" and "app_cpu_ms" in r), None)
    if me:  # the check's share of the whole request's CPU, GET /users/me being the cheapest
        check["check_share_of_me_request_cpu"] = (
            f"{100 * check['stamp_check_us'] / (1000 * me['app_cpu_ms']):.3f}%"
        )
    print(f"   revocation check: {json.dumps(check)}", flush=True)
    return rows


def wrk(server: "Server", args: argparse.Namespace, env: dict, duration: int, login: bool = False) -> dict:
    # Hashing a password is slow on purpose: login gets a few connections, a longer timeout.
    connections = 4 if login else args.connections
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s" if login else "3s"]
    cmd += ["-s", str(ROOT / "bench" / "wrk.lua"), server.url]
    server.sampler.reset()
    if server.process is None:
        raise SystemExit("wrk() needs a started server")
    app_pid = server.process.pid
    cpu_before = cpu_seconds(app_pid), cpu_seconds(server.database_pid)
    out = subprocess.run(
        cmd, env={**os.environ, **env, "BENCH_THREADS": "2"}, capture_output=True, text=True,
        timeout=duration + 30, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    app_cpu, db_cpu = (
        cpu_seconds(pid) - before
        for pid, before in zip((app_pid, server.database_pid), cpu_before, strict=True)
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


class Server:
    """gunicorn serving the code in `root` (this checkout by default), with `env` added."""

    def __init__(self, root: Path = ROOT, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.sampler = RssSampler()
        self.database_pid: int | None = None  # the PostgreSQL server, when it runs on this machine

    def start(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, **self.extra_env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        gunicorn = str(Path(PYTHON).parent / "gunicorn")
        self.process = subprocess.Popen(
            [gunicorn, "config.wsgi", "-c", "gunicorn.conf.py"],
            cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        for _ in range(150):
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log.name}")
            try:
                if self.status("/", "") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        self.sampler.start(self.process.pid)
        print(f"gunicorn on {self.url}, log {self.log.name}", flush=True)

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
        request = urllib.request.Request(self.url + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def login(self, email: str, password: str) -> str:
        body = urllib.parse.urlencode({"username": email, "password": password}).encode()
        with urllib.request.urlopen(self.url + "/login", data=body, timeout=30) as response:
            return json.load(response)["access_token"]


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


def machine(pg_version: str) -> str:
    mem_kib = int(
        next(x for x in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in x).split()[1]
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{mem_kib / 2**20:.1f} GiB memory, load average {load}\n"
        f"{pg_version}; Python {platform.python_version()}; "
        f"database {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded PostgreSQL'}"
    )


def report(results: dict[str, list[dict]]) -> str:
    lines = [
        "| size | scenario | req/s | p50 ms | p99 ms | failed | queries/request | app CPU ms/req "
        "| db CPU ms/req | worker peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, rows in results.items():
        for r in rows:
            if "note" in r:
                lines.append(f"| {size} | {r['scenario']} | {r['note']} | | | | {r['queries']} | | | |")
                continue
            lines.append(
                f"| {size} | {r['scenario']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['failed']} | {r['queries']} | {r['app_cpu_ms']:.2f} "
                f"| {'-' if r['db_cpu_ms'] is None else format(r['db_cpu_ms'], '.2f')} | {r['rss_mib']:.0f} |"
            )
    by = {size: {r["scenario"]: r for r in rows} for size, rows in results.items()}
    if "1k" in by and "1M" in by:
        lines += [
            "",
            "| read scenario | 1M req/s as % of 1k | 1k: % of GET / | 1M: % of GET / |",
            "|---|---:|---:|---:|",
        ]
        for name in READS:
            small, large = by["1k"].get(name, {}), by["1M"].get(name, {})
            if "rps" not in small or "rps" not in large:
                continue
            lines.append(
                f"| {name} | {100 * large['rps'] / small['rps']:.0f}% "
                f"| {100 * small['rps'] / by['1k']['GET /']['rps']:.0f}% "
                f"| {100 * large['rps'] / by['1M']['GET /']['rps']:.0f}% |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
