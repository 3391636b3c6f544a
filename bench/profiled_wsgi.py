"""The project's WSGI app under cProfile, for profiling under gunicorn as it is served.

    PROFILE_DIR=/tmp/prof GUNICORN_THREADS=1 .venv/bin/gunicorn bench.profiled_wsgi:application \
        -c gunicorn.conf.py
    (put load on it, e.g. wrk with bench/wrk.lua, then stop it)
    .venv/bin/python bench/profiled_wsgi.py /tmp/prof     # the layers, per request

Since Python 3.12 a process can run only one profiler at a time, across all its threads, so
this runs with sync workers (GUNICORN_THREADS=1: one request at a time per worker); the rest of
gunicorn.conf.py is as served. Each worker profiles every request on its own CPU time
(time.process_time: waits on the database and on other processes do not count) and writes its
statistics to PROFILE_DIR every PROFILE_EVERY (200) requests, as ``<pid>.prof``. Reading the
folder merges every file and prints bench/profiling.py's layers and top functions.
"""

import cProfile
import os
import sys
import threading
import time
from pathlib import Path

DIRECTORY = Path(os.environ.get("PROFILE_DIR", "/tmp/bench-profile"))  # noqa: S108 (a local tool)
EVERY = int(os.environ.get("PROFILE_EVERY", "200"))
_local = threading.local()


def _profiled(application):
    def wrapped(environ, start_response):
        if not hasattr(_local, "profiler"):
            _local.profiler, _local.requests = cProfile.Profile(time.process_time), 0
        profiler = _local.profiler
        profiler.enable()
        try:
            response = application(environ, start_response)
            body = [b"".join(response)]
            if hasattr(response, "close"):
                response.close()
        finally:
            profiler.disable()
        _local.requests += 1
        if _local.requests % EVERY == 0:
            DIRECTORY.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(DIRECTORY / f"{os.getpid()}.prof")
            (DIRECTORY / f"{os.getpid()}.requests").write_text(str(_local.requests))
        return body

    return wrapped


def summary(directory: Path, top: int = 25) -> str:
    """The merged profiles of `directory`: requests, layers per request, top functions."""
    import io
    import pstats

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.profiling import layers

    files = sorted(directory.glob("*.prof"))
    requests = sum(int(path.with_suffix(".requests").read_text()) for path in files)
    out = io.StringIO()
    stats = pstats.Stats(*map(str, files), stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return f"{requests} requests in {len(files)} workers\n{layers(stats, requests)}\n{out.getvalue()}"


if __name__ == "__main__":
    print(summary(Path(sys.argv[1])))
else:
    # The project's WSGI application as config/wsgi.py builds it, without importing config.
    import os

    from django.core.wsgi import get_wsgi_application

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    application = _profiled(get_wsgi_application())
