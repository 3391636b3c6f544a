"""Gunicorn settings, read from the environment. The image and `make run` both use this file."""

import os


def _cores() -> int:
    # The cores this process may run on (a container's --cpuset-cpus), not all of the host's.
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return count or 1


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
# Behind a CPU quota (docker --cpus, a Kubernetes limit) set WEB_CONCURRENCY to match it.
# 0 means the default, 2 x cores: gunicorn itself converts WEB_CONCURRENCY with int() when it
# is imported, before it reads this file, so an empty value stops it; the compose file passes 0.
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or min(_cores() * 2, 8)
# Threads let a worker serve other requests (and keep connections alive) while one waits on
# the database; each thread keeps its own persistent database connection, so the database sees
# up to workers x threads connections per instance. GUNICORN_THREADS=1 gives sync workers.
threads = int(os.environ.get("GUNICORN_THREADS") or "4")
worker_class = "gthread" if threads > 1 else "sync"

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
# The default format plus the time each request took, in milliseconds.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'

timeout = 30
# On SIGTERM, workers finish the request in hand for up to this long before they are killed.
# Give the container more than this to stop (compose's stop_grace_period, docker stop -t).
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, with jitter so they do not restart together.
max_requests = 10_000
max_requests_jitter = 1_000
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1"

# Worker heartbeats touch a file every second; on a container's disk-backed /tmp that can
# block a worker, so keep them in memory where there is /dev/shm.
if os.path.isdir("/dev/shm"):  # noqa: S108 (a memory-backed mount, not a shared temp file)
    worker_tmp_dir = "/dev/shm"  # noqa: S108
# No control socket: it lives in $HOME, which instances of one user would share (and the
# image's user cannot write). Signals do the same job: TERM to stop, HUP to reload.
control_socket_disable = True
