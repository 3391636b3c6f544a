"""Gunicorn settings, read from the environment and `.env` (environment/variables.py, as settings.py reads
them). The image and `make run` both use this file."""

import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING

from environment.variables import PORT_MAX, ConfigurationError, env, env_bool, env_int

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker


def _cores() -> int:
    # The cores this process may run on (a container's --cpuset-cpus), not all of the host's.
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return count or 1


try:
    # GUNICORN_HOST: where to listen when GUNICORN_BIND is unset (make run sets 127.0.0.1).
    _port = env_int("PORT", 8000, minimum=1, maximum=PORT_MAX)
    bind = env("GUNICORN_BIND") or f"{env('GUNICORN_HOST', '0.0.0.0')}:{_port}"  # noqa: S104
    # Behind a CPU quota (docker --cpus, a Kubernetes limit) set WEB_CONCURRENCY to match it.
    # 0 means the default, 2 x cores: gunicorn itself converts WEB_CONCURRENCY with int() when
    # it is imported, before it reads this file, so an empty value stops it; compose passes 0.
    workers = env_int("WEB_CONCURRENCY", 0) or min(_cores() * 2, 8)
    # Threads let a worker serve other requests (and keep connections alive) while one waits on
    # the database; each thread keeps its own persistent database connection, so the database
    # sees up to workers x threads connections per instance. GUNICORN_THREADS=1: one thread.
    threads = env_int("GUNICORN_THREADS", 4, minimum=1)
    # make run: a server in a terminal, which must not outlive it (see when_ready).
    foreground = env_bool("GUNICORN_FOREGROUND")
except ConfigurationError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(1)
# gthread, with each request read off the threads first: slow clients hold no thread
# (config/gunicorn_worker.py says why this and not gevent or ASGI).
worker_class = "config.gunicorn_worker.BufferedThreadWorker"

accesslog = "-"
errorlog = "-"
loglevel = env("GUNICORN_LOG_LEVEL", "info")
# The default format plus the time each request took, in milliseconds; written as the message
# of a JSON line in the app's shape, with the request id (observability/access_log.py).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
logger_class = "observability.access_log.JsonAccessLogger"

# /metrics adds up every worker's figures (prometheus-client's multiprocess mode): each worker
# writes them to files in PROMETHEUS_MULTIPROC_DIR, which must be set before a worker imports
# the client, and emptied when the server starts. Unless the operator names one, a directory of
# this server's own, in memory where there is /dev/shm, removed when the server stops.
_own_metrics_dir = False
if env("METRICS_TOKEN") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _shm = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (memory-backed)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="social-api-metrics-", dir=_shm)
    _own_metrics_dir = True

timeout = 30
# On SIGTERM, workers finish the request in hand for up to this long before they are killed.
# Give the container more than this to stop (compose's stop_grace_period, docker stop -t).
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, with jitter so they do not restart together.
max_requests = 10_000
max_requests_jitter = 1_000
forwarded_allow_ips = env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Worker heartbeats touch a file every second; on a container's disk-backed /tmp that can
# block a worker, so keep them in memory where there is /dev/shm.
if os.path.isdir("/dev/shm"):  # noqa: S108 (a memory-backed mount, not a shared temp file)
    worker_tmp_dir = "/dev/shm"  # noqa: S108
# No control socket: it lives in $HOME, which instances of one user would share (and the
# image's user cannot write). Signals do the same job: TERM to stop, HUP to reload.
control_socket_disable = True


def on_starting(server: "Arbiter") -> None:
    """Before binding: a taken port, bad settings or an unreachable database is one line on
    stderr and exit status 1 (config/startup.py), not a traceback in every worker."""
    from config.startup import check_before_serving

    check_before_serving(server.cfg.address)
    if (metrics_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR")) and not _own_metrics_dir:
        # Figures of an earlier run would be added to this one's.
        for name in os.listdir(metrics_dir):
            if name.endswith(".db"):
                os.remove(os.path.join(metrics_dir, name))


def post_fork(server: "Arbiter", worker: object) -> None:
    """In each worker: tracing and error reports, when configured (observability/tracing.py);
    their exporters' threads do not survive a fork, so each worker starts its own."""
    from observability.tracing import start

    start()


def child_exit(server: "Arbiter", worker: "Worker") -> None:
    """A worker gone: its live gauges leave the scrape (its counters stay in the sums)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def when_ready(server: "Arbiter") -> None:
    """With GUNICORN_FOREGROUND (``make run``), the server ends with its terminal: SIGHUP (the
    terminal closed) stops it instead of reloading, and so does the end of the command that
    started it (``make`` killed), so nothing is left serving, or holding the embedded database,
    in the background."""
    if not foreground:
        return
    signal.signal(signal.SIGHUP, lambda signum, frame: server.signal(signal.SIGTERM, frame))
    parent = os.getppid()

    def stop_when_orphaned() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        server.signal(signal.SIGTERM, None)

    threading.Thread(target=stop_when_orphaned, name="stop-when-orphaned", daemon=True).start()


def on_exit(server: "Arbiter") -> None:
    """Once the master is stopping, a second Ctrl-C (or HUP) is ignored: it would interrupt the
    clean-up that runs at exit (the embedded database's stop) with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
