"""Gunicorn settings, read from the environment. The image and `make run` both use this file."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2, 8)))
# Threads let a worker serve other requests (and keep connections alive) while one waits on
# the database; each thread keeps its own persistent database connection.
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, with jitter so they do not restart together.
max_requests = 10_000
max_requests_jitter = 1_000
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
