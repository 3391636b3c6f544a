"""A PostgreSQL primary, a streaming replica of it and PgBouncer in front of the primary, made
from the machine's binaries in a temporary directory on free loopback ports.

Used by deploy/tests/test_replicas.py and bench/replicas.py. The servers run as the
``postgres`` OS user when this process is root (initdb and pgbouncer refuse root).
"""

import csv
import io
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import psycopg

from testing import REPO
from testing.net import free_port

DATABASE = "app"
POOL_SIZE = 4


def postgres_bin() -> Path | None:
    """The newest of the machine's PostgreSQL server binary directories, or None."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def pgbouncer_bin() -> str | None:
    """Debian's pgbouncer (in /usr/sbin, often not on a user's PATH), or None."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")


def missing() -> str | None:
    """What this machine lacks to build the cluster, or None."""
    if postgres_bin() is None:
        return "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
    if pgbouncer_bin() is None:
        return "no pgbouncer (apt-get install pgbouncer)"
    return None


def _as_postgres() -> dict:
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def run(*command: str | Path) -> str:
    """Run a command as the servers' user; its output, or CalledProcessError with it."""
    done = subprocess.run(  # noqa: S603 (our own arguments)
        [str(part) for part in command], capture_output=True, text=True, **_as_postgres()
    )
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
    return done.stdout


@dataclass
class Cluster:
    """The running servers: ports on 127.0.0.1, all reached as the ``postgres`` role without a
    password (trust), and PgBouncer's process."""

    directory: Path
    primary_port: int
    replica_port: int
    bouncer_port: int
    bouncer: subprocess.Popen

    def url(self, port: int) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{DATABASE}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    @property
    def bouncer_url(self) -> str:
        return self.url(self.bouncer_port)

    def query(self, port: int, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.url(port), autocommit=True, connect_timeout=5) as conn:
            return conn.execute(sql, params or None).fetchall()

    def post_reads(self, port: int) -> int:
        """Statements that read posts run so far on that server (pg_stat_statements)."""
        return int(
            self.query(
                port,
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                "WHERE query LIKE 'SELECT %' AND query LIKE '%FROM \"posts_post\"%'",
            )[0][0]
        )

    def replay_lag(self) -> float:
        """The replica's replay lag in seconds as the primary measures it (0 when idle)."""
        return float(
            self.query(
                self.primary_port,
                "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0) FROM pg_stat_replication",
            )[0][0]
        )

    def pools(self) -> dict[str, int]:
        """PgBouncer's SHOW POOLS for the app's database: client and server connection counts."""
        out = run(
            postgres_bin() / "psql", "-h", "127.0.0.1", "-p", self.bouncer_port, "-U", "postgres",
            "--csv", "-c", "SHOW POOLS", "pgbouncer",
        )  # fmt: skip
        row = next(r for r in csv.DictReader(io.StringIO(out)) if r["database"] == DATABASE)
        servers = sum(int(row[k]) for k in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"))
        return {"clients": int(row["cl_active"]) + int(row["cl_waiting"]), "servers": servers}

    def stop_replica(self) -> None:
        run(postgres_bin() / "pg_ctl", "-D", self.directory / "replica", "-m", "immediate", "-w", "stop")

    def start_replica(self) -> None:
        replica = self.directory / "replica"
        run(postgres_bin() / "pg_ctl", "-D", replica, "-l", self.directory / "replica.log", "-w", "start")
        _wait_streaming(self)


def _start(data: Path, port: int, directory: Path) -> None:
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{directory}'\n"
        )
    run(postgres_bin() / "pg_ctl", "-D", data, "-l", directory / f"{data.name}.log", "-w", "start")


def _wait_streaming(cluster: Cluster, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cluster.query(
            cluster.primary_port, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        )[0][0]:
            return
        time.sleep(0.2)
    raise RuntimeError("the replica did not start streaming")


@contextmanager
def cluster(migrate_env: dict[str, str], *, apply_delay_ms: int = 0):
    """Primary (migrated by ``manage.py migrate`` with the replica configured: the router keeps
    migrations on the primary), streaming replica, PgBouncer in transaction
    pooling mode with a pool of POOL_SIZE server connections; all stopped on exit. The replica
    applies each transaction ``apply_delay_ms`` after its commit (recovery_min_apply_delay), so
    that a read sent to it right after a write would miss that write."""
    bin_dir = postgres_bin()
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pg-cluster-")))
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(directory, postgres.pw_uid, postgres.pw_gid)
        primary, replica = directory / "primary", directory / "replica"
        primary_port, replica_port, bouncer_port = free_port(), free_port(), free_port()
        run(bin_dir / "initdb", "-D", primary, "-A", "trust", "-U", "postgres", "--no-sync")
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                "shared_preload_libraries = 'pg_stat_statements'\nfsync = off\nmax_connections = 100\n"
            )
        _start(primary, primary_port, directory)
        stack.callback(run, bin_dir / "pg_ctl", "-D", primary, "-m", "immediate", "stop")
        run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres", DATABASE)
        run(
            bin_dir / "psql", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres", "-d", DATABASE,
            "-c", "CREATE EXTENSION pg_stat_statements",
        )  # fmt: skip
        run(
            bin_dir / "pg_basebackup", "-D", replica, "-h", "127.0.0.1", "-p", primary_port,
            "-U", "postgres", "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        with (replica / "postgresql.conf").open("a") as conf:
            conf.write(f"recovery_min_apply_delay = {apply_delay_ms}\n")
        _start(replica, replica_port, directory)
        # Stopping an already stopped replica (the outage test) fails harmlessly.
        stack.callback(subprocess.run, [bin_dir / "pg_ctl", "-D", replica, "-m", "immediate", "stop"],
                       capture_output=True, **_as_postgres())  # fmt: skip
        (directory / "users.txt").write_text('"postgres" ""\n')
        (directory / "pgbouncer.ini").write_text(
            f"[databases]\n{DATABASE} = host=127.0.0.1 port={primary_port} dbname={DATABASE}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {bouncer_port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {directory}/users.txt\nadmin_users = postgres\n"
            f"pool_mode = transaction\ndefault_pool_size = {POOL_SIZE}\nmax_client_conn = 500\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        bouncer = subprocess.Popen(  # noqa: S603
            [pgbouncer_bin(), str(directory / "pgbouncer.ini")],
            stdout=(directory / "pgbouncer.log").open("wb"),
            stderr=subprocess.STDOUT,
            **_as_postgres(),
        )
        stack.callback(bouncer.wait, 10)
        stack.callback(bouncer.terminate)
        result = Cluster(directory, primary_port, replica_port, bouncer_port, bouncer)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env={
                **os.environ,
                **migrate_env,
                "DATABASE_URL": result.primary_url,
                "DATABASE_REPLICA_URLS": result.replica_url,
            },
            check=True,
        )
        _wait_streaming(result)
        yield result


class ReadLoad:
    """``count`` GETs of ``path`` with a bearer token, spread over the servers by
    ``concurrency`` client threads; ``done`` grows as answers come in."""

    def __init__(
        self, servers: list, token: str, count: int, concurrency: int = 8, path: str = "/posts/?limit=10"
    ):
        self.servers, self.token, self.count, self.path = servers, token, count, path
        self.concurrency = concurrency
        self.statuses: list[int] = []
        self.done = 0
        self.seconds = 0.0

    def run(self) -> "ReadLoad":
        from concurrent.futures import ThreadPoolExecutor

        def one(number: int) -> None:
            server = self.servers[number % len(self.servers)]
            try:
                status = server.request("GET", self.path, token=self.token, timeout=30).status
            except OSError:
                status = 0  # no answer at all
            self.statuses.append(status)
            self.done += 1

        started = time.monotonic()
        with ThreadPoolExecutor(self.concurrency) as pool:
            list(pool.map(one, range(self.count)))
        self.seconds = time.monotonic() - started
        return self

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def watched(
    cluster: "Cluster", load: ReadLoad, during: Callable[[], None] | None = None
) -> tuple[list, list]:
    """Run the load, calling `during` meanwhile, while sampling PgBouncer's pools and the
    replica's replay lag every 0.2 s; returns (pools, lags) as sampled."""
    pools, lags, running = [], [], threading.Event()
    running.set()

    def watch() -> None:
        while running.is_set():
            pools.append(cluster.pools())
            lags.append(cluster.replay_lag())
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    runner = threading.Thread(target=load.run)
    runner.start()
    try:
        if during:
            during()
    finally:
        runner.join()
        running.clear()
        watcher.join()
    return pools, lags
