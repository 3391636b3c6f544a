# ruff: noqa: S603  (a local tool: it runs our own code)
"""CPU per request of several checkouts, in-process, in one run: one lever against the code
without it, on a machine whose neighbours make requests/s useless. Scenarios: list, get one,
me (GET /users/me: authentication alone), vote (a vote and its removal, in turns) and login
(``--login-requests`` per round: a login is a password hash, ~0.3 s of CPU).

    .venv/bin/python bench/compare.py /path/to/checkout-a /path/to/checkout-b [...]
        [--rounds 4] [--requests 200] [--scenarios list,get one,me,vote,login]

A checkout may carry environment variables of its own after ``::``, so one checkout is compared
with itself under another setting, e.g. metrics off against on (docs/operating.md):

    .venv/bin/python bench/compare.py . ".::METRICS_TOKEN=bench,PROMETHEUS_MULTIPROC_DIR=/tmp/m"

Each checkout (e.g. ``git worktree add`` or ``git archive | tar -x`` of a commit, with a change
applied) is served in a process of its own through Django's WSGI handler, on the database of
DATABASE_URL (default: the embedded PostgreSQL of this checkout, i.e. what `make bench` seeded
last). Rounds go in turns across the checkouts; each round sends `--requests` requests and
measures the process's CPU time and its database backend's CPU time (from /proc: the database
must run on this machine). The least of the rounds is kept (neighbours only ever add to it),
and each checkout is printed against the first.
"""

import argparse
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("list", "get one", "me", "vote", "login")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkouts", nargs="+", help="PATH, or PATH::NAME=VALUE,... with settings of its own")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--login-requests", type=int, default=10)
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="comma-separated, from: " + ",".join(SCENARIOS)
    )
    args = parser.parse_args()
    scenarios = [name for name in args.scenarios.split(",") if name]
    if unknown := set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        # The per-user write limits would answer most of the vote scenario with 429s.
        "POST_RATE": "1000000/minute",
        "VOTE_RATE": "1000000/minute",
    }
    env.setdefault("DATABASE_URL", embedded_url())
    workers: dict[str, tuple[subprocess.Popen[str], IO[str], IO[str]]] = {}
    for checkout in args.checkouts:
        path, _, settings = checkout.partition("::")
        own = dict(item.split("=", 1) for item in settings.split(",") if item)
        for name in ("PROMETHEUS_MULTIPROC_DIR",):  # a directory the setting names must exist
            if own.get(name):
                Path(own[name]).mkdir(parents=True, exist_ok=True)
        worker = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(Path(path).resolve()), str(len(workers))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**env, **own},
        )  # fmt: skip
        if worker.stdin is None or worker.stdout is None:  # both are pipes: never
            raise SystemExit(f"{checkout}: no pipes to its worker")
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit(f"{checkout} did not start")
        workers[str(checkout)] = (worker, worker.stdin, worker.stdout)
    results: dict[tuple[str, str], list[list[float]]] = {(c, s): [] for c in workers for s in scenarios}
    for _ in range(args.rounds):
        for scenario in scenarios:
            count = args.login_requests if scenario == "login" else args.requests
            for checkout, (_, stdin, stdout) in workers.items():
                stdin.write(f"{scenario}\t{count}\n")
                stdin.flush()
                figures = [float(x) / count * 1e6 for x in stdout.readline().split()]
                results[checkout, scenario].append(figures)
    for worker, stdin, _ in workers.values():
        stdin.close()
        worker.wait()
    print(f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    first = next(iter(workers))
    for scenario in scenarios:
        base = min(r[0] for r in results[first, scenario])
        for checkout in workers:
            rounds = results[checkout, scenario]
            app, db, wall = (min(r[i] for r in rounds) for i in range(3))
            print(
                f"{scenario:8} {checkout:40} app CPU {app:6.0f} µs  db CPU {db:5.0f} µs  wall {wall:6.0f} µs"
                f"  app CPU / first {app / base:.2f}"
            )


def embedded_url() -> str:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from bench.datasets import database_url

    return database_url()


def worker(checkout: Path) -> None:
    """Serve requests in-process for main(): one line per round, 'app_s db_s wall_s'."""
    os.chdir(checkout)
    sys.path.insert(0, str(checkout))
    sys.path.insert(1, str(ROOT))  # bench's own helpers, if the checkout predates them
    # The request helper is this checkout's, whatever the compared one holds.
    spec = importlib.util.spec_from_file_location("compare_requests", ROOT / "bench" / "profiling.py")
    if spec is None or spec.loader is None:
        raise SystemExit("bench/profiling.py not found")
    profiling = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(profiling)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from accounts.models import User
    from accounts.tokens import AccessToken
    from bench.datasets import PASSWORD
    from bench.probe import clear_votes, pick_posts

    request_caller = profiling.request_caller
    application = get_wsgi_application()
    token = str(AccessToken.for_user(User.objects.get(email="user1@example.com")))
    post_id, free_posts = pick_posts(user_email="user1@example.com")
    # Each worker votes on a post of its own: the compared checkouts share the database.
    vote_post = free_posts[int(sys.argv[3]) % len(free_posts)]
    clear_votes(user_email="user1@example.com", post_ids=[vote_post])
    vote = [json.dumps({"post_id": vote_post, "dir": d}).encode() for d in (1, 0)]
    login = urllib.parse.urlencode({"username": "user1@example.com", "password": PASSWORD}).encode()
    calls = {
        "list": request_caller(application, "/posts/?limit=10", token),
        "get one": request_caller(application, f"/posts/{post_id}", token),
        "me": request_caller(application, "/users/me", token),
        "vote": request_caller(
            application,
            "/vote/",
            token,
            method="POST",
            bodies=vote,
            content_type="application/json",
            expect="201",
        ),
        "login": request_caller(
            application,
            "/login",
            "",
            method="POST",
            bodies=[login],
            content_type="application/x-www-form-urlencoded",
        ),
    }
    for name, call in calls.items():  # warm: connection, code paths, prepared statements
        for _ in range(2 if name == "login" else 20):
            call()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def backend_cpu() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    print("ready", flush=True)
    for line in sys.stdin:
        scenario, count = line.rstrip("\n").split("\t")
        call = calls[scenario]
        app, db, wall = time.process_time(), backend_cpu(), time.perf_counter()
        for _ in range(int(count)):
            call()
        print(time.process_time() - app, backend_cpu() - db, time.perf_counter() - wall, flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]))
    else:
        main()
