"""`make bench-abuse`: while 16 clients of one user send the most expensive reads they can, how
much slower is another user's `GET /posts/?limit=10`?

One gunicorn as `make run` serves it (the project's gunicorn.conf.py, DEBUG off), on the bench's
database (the embedded PostgreSQL unless DATABASE_URL is set), seeded with `--posts` posts by
`manage.py seed`. The victim (user1) reads its first page one request at a time, in slices of
SLICE seconds taken in turns: alone (the quiet time; each quiet slice starts once the attackers'
requests have ended), then while the attackers (user2, in a process of their own so that they
do not share the victim's interpreter) loop over the worst reads: searches the trigram index
cannot serve (`~`, `%%%`, `a`), the deepest `skip`, and `Prefer: count=exact`. The ratio of the
two medians (and of the 90th percentiles) is the figure; quiet and attacked each take about
--duration seconds. With --floor each run first measures the same clients sending the victim's
own cheap read, PAUSE apart: what any such clients cost, which no budget can lower.

With --unbounded the same is measured first against a server without the bounds (no
statement timeout, no budget for expensive reads), so both ratios come from one run. Without
--redis-url each worker process counts the budget's window on its own, as `make run` serves it
(the reads in progress are counted in PostgreSQL either way); with it, each run measures the
server without Redis and then with it, in turns, so both see the same neighbours. --runs repeats
that on the one seeded database; the summary says in how many runs the goal held (the victim's
median within GOAL times its quiet median). `make bench ARGS="--scenarios=abuse"` runs one round
of it on each size (bench/run.py).

    make bench-abuse ARGS="--posts=200000 --duration=15 --runs=5 --redis-url=redis://127.0.0.1:6379/1"
"""

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import load_average  # noqa: E402
from bench.servers import PYTHON, Server, run  # noqa: E402

PASSWORD = "bench-password-123"  # noqa: S105 (the seeded users' password)
VICTIM, ATTACKER = "user1@example.com", "user2@example.com"
# The goal (issue: another user's list within 3 times its quiet time while one user attacks).
GOAL = 3.0
UNBOUNDED = {"DATABASE_STATEMENT_TIMEOUT": "0", "EXPENSIVE_READS_IN_FLIGHT": "1000",
             "EXPENSIVE_READS_IN_FLIGHT_TOTAL": "1000", "EXPENSIVE_READ_RATE": "100000000/second"}  # fmt: skip


def worst_reads(posts: int) -> list[tuple[str, dict[str, str]]]:
    """The most expensive list reads found: each reads every post, or nearly."""
    return [
        ("/posts/?search=" + urllib.parse.quote("~"), {}),
        ("/posts/?search=" + urllib.parse.quote("%%%"), {}),
        ("/posts/?search=a&limit=100", {"Prefer": "count=exact"}),
        (f"/posts/?skip={max(posts - 10, 0)}", {}),
        ("/posts/", {"Prefer": "count=exact"}),
    ]


def timed_get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[int, float]:
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    answer = conn.getresponse()
    answer.read()
    return answer.status, time.perf_counter() - started


def login(url: str, email: str) -> str:
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    body = urllib.parse.urlencode({"username": email, "password": PASSWORD})
    conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse()
    token = json.loads(answer.read())["access_token"]
    conn.close()
    return token


# The floor: the same clients sending the victim's own cheap read, each pausing as an attacker
# does after a 429, cost what any busy clients cost (no budget can make a request free).
FLOOR: list[tuple[str, dict[str, str]]] = [("/posts/?limit=10", {})]
PAUSE = 0.05  # seconds an attacker waits after a 429 (a client that reads Retry-After waits longer)
SLICE = 2.0  # seconds per quiet or attacked slice of a phase


def attack(url: str, token: str, reads: list, clients: int, go, stop, in_flight, results) -> None:
    """`clients` threads looping over `reads` while the Event `go` is set, until `stop` is,
    pausing PAUSE after a 429 (after every answer for FLOOR); `in_flight` (a shared int) counts
    their requests in progress. Puts the Counter of statuses on `results`."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def loop(offset: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        i = offset
        while not stop.is_set():
            if not go.wait(0.1):
                continue
            path, headers = reads[i % len(reads)]
            i += 1
            with in_flight.get_lock():
                in_flight.value += 1
            try:
                status, _ = timed_get(conn, path, {**headers, "Authorization": f"Bearer {token}"})
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                status = 0
            with in_flight.get_lock():
                in_flight.value -= 1
            with lock:
                statuses[str(status)] += 1
            if status == 429 or reads == FLOOR:
                time.sleep(PAUSE)
        conn.close()

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(statuses))


def victim_times(url: str, token: str, seconds: float) -> list[float]:
    """GET /posts/?limit=10 one after another for `seconds`; each one's time in seconds."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, took = timed_get(conn, "/posts/?limit=10", {"Authorization": f"Bearer {token}"})
        if status != 200:
            raise SystemExit(f"the victim's list answered {status}")
        times.append(took)
    conn.close()
    return times


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) >= 10 else max(values)


def measure(
    label: str, env: dict[str, str], posts: int, clients: int, seconds: float, reads: list | None = None
) -> dict:
    """One server with `env` added: the victim's times alone, then under `clients` attackers
    looping over `reads` (worst_reads(posts) by default); prints and returns the figures."""
    server = Server(env=env)
    server.start()
    quiet: list[float] = []
    loud: list[float] = []
    attack_seconds = 0.0
    try:
        victim, attacker = login(server.url, VICTIM), login(server.url, ATTACKER)
        victim_times(server.url, victim, 1)  # warm every worker's connection and plans
        results: multiprocessing.Queue = multiprocessing.Queue()
        go, stop, in_flight = multiprocessing.Event(), multiprocessing.Event(), multiprocessing.Value("i", 0)
        attackers = multiprocessing.Process(
            target=attack,
            args=(server.url, attacker, reads or worst_reads(posts), clients, go, stop, in_flight, results),
        )
        attackers.start()
        # Quiet and attacked slices in turns: both see the same neighbours on a shared machine.
        for _ in range(max(1, round(seconds / SLICE))):
            go.clear()
            settled = time.monotonic() + 60
            while in_flight.value and time.monotonic() < settled:  # the attackers' requests end
                time.sleep(0.05)
            quiet += victim_times(server.url, victim, SLICE)
            go.set()
            started = time.monotonic()
            time.sleep(0.5)  # every attacker is sending
            loud += victim_times(server.url, victim, SLICE)
            attack_seconds += time.monotonic() - started
        go.clear()
        stop.set()
        statuses = results.get(timeout=180)
        attackers.join()
    finally:
        server.stop()
    figures = {
        "server": label,
        "quiet median ms": round(statistics.median(quiet) * 1000, 1),
        "attacked median ms": round(statistics.median(loud) * 1000, 1),
        "median ratio": round(statistics.median(loud) / statistics.median(quiet), 2),
        "quiet p90 ms": round(p90(quiet) * 1000, 1),
        "attacked p90 ms": round(p90(loud) * 1000, 1),
        "p90 ratio": round(p90(loud) / p90(quiet), 2),
        "victim requests (quiet, attacked)": (len(quiet), len(loud)),
        "attacker answers by status": statuses,
        "attacker answers per second": round(sum(statuses.values()) / attack_seconds),
        "load average": load_average(),
    }
    print(json.dumps(figures), flush=True)
    return figures


def rounds(
    env: dict[str, str],
    posts: int,
    clients: int,
    seconds: float,
    runs: int,
    redis_url: str,
    floor: bool = False,
) -> str:
    """`runs` rounds, each against the server as configured without Redis and, with
    `redis_url`, with it (in turns), after the FLOOR with `floor`; `env` is added to each
    server's. Returns the summary line: per setup, the median ratios and how many were within
    GOAL."""
    setups = [("as configured, counts per worker process", {"REDIS_URL": ""})]
    if redis_url:
        setups.append(("as configured, counts in Redis", {"REDIS_URL": redis_url}))
    ratios: dict[str, list[float]] = {label: [] for label, _ in setups}
    for _ in range(runs):
        if floor:
            measure(
                "floor: the same clients' cheap reads",
                {**env, "REDIS_URL": ""},
                posts,
                clients,
                seconds,
                FLOOR,
            )
        for label, extra in setups:
            ratios[label].append(measure(label, {**env, **extra}, posts, clients, seconds)["median ratio"])
    summary = "; ".join(
        f"{label}: median ratios {values}, within {GOAL:g}x in {sum(r <= GOAL for r in values)} of {len(values)}"
        for label, values in ratios.items()
    )
    print(f"abuse: {summary}", flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=16, help="the attacking user's clients")
    parser.add_argument("--duration", type=float, default=15, help="seconds per phase")
    parser.add_argument("--runs", type=int, default=1, help="rounds of measures on the one seeded database")
    parser.add_argument("--floor", action="store_true", help="each run, measure the FLOOR first")
    parser.add_argument("--unbounded", action="store_true", help="measure a server without the bounds first")
    parser.add_argument(
        "--redis-url", default="", help="also measure with REDIS_URL: one window count for all workers"
    )
    args = parser.parse_args()
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.chdir(ROOT)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"])
    started = time.monotonic()
    seed = ["--users=100", f"--posts={args.posts}", f"--votes={args.posts}", f"--password={PASSWORD}"]
    run([PYTHON, "manage.py", "seed", *seed])
    print(
        f"seeded {args.posts} posts in {time.monotonic() - started:.0f} s; {os.cpu_count()} cores; "
        f"load average {load_average()}",
        flush=True,
    )
    if args.unbounded:
        measure("without bounds", UNBOUNDED, args.posts, args.clients, args.duration)
    rounds({}, args.posts, args.clients, args.duration, args.runs, args.redis_url, args.floor)


if __name__ == "__main__":
    main()
