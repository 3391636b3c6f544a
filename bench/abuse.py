"""`make bench-abuse`: while 16 clients of one user send the most expensive reads they can, how
much slower is another user's `GET /posts/?limit=10`?

One gunicorn as `make run` serves it (the project's gunicorn.conf.py, DEBUG off, no Redis: the
budget is counted in PostgreSQL), on the bench's database (the embedded PostgreSQL unless
DATABASE_URL is set), seeded with `--posts` posts by `manage.py seed` and a thread of
`--comments` comments on one post. The victim (user1) reads its first page one request at a
time, in slices of SLICE seconds taken in turns: alone (the quiet time; each quiet slice starts
once the attackers' requests have ended), then while the attackers (user2, in a process of their
own so that they do not share the victim's interpreter) loop over the worst reads
(worst_reads): searches the trigram index cannot serve (`~`, `%%%`, `a`), searches it serves
that still read long lists of it (common words that never meet), the deepest `skip` and
`Prefer: count=exact` on the posts and on the thread's comments, each client PAUSE after each
answer. The ratio of the two medians (and of the 90th percentiles) is the figure; quiet and
attacked each take about --duration seconds. With --floor each run first measures the same
clients at the same pace sending the victim's own cheap read: what any such clients cost, which
no budget can lower.

With --unbounded the same is measured first against a server without the bounds (no
statement timeout, no budget for expensive reads), so both ratios come from one run. --runs
repeats the measure on the one seeded database; the summary says in how many runs the goal
held (the victim's median within GOAL times its quiet median). `make bench
ARGS="--scenarios=abuse"` runs one round of it on each size (bench/run.py), with make bench's
comment threads.

    make bench-abuse ARGS="--posts=200000 --duration=15 --runs=5 --floor"
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


# Searches the trigram index serves that still read long lists of it: two common words of the
# seeded titles that never meet (40 to 100 ms each at a million posts), and a long run of them.
COMMON_WORDS = ["lazy tips", "simple trick", "gentle review", "curious thoughts", "deep notes"]
LONG_SEARCH = "quick lazy curious practical modern gentle bold simple deep small guide notes tips story"


def worst_reads(posts: int, thread: tuple[int, int] | None = None) -> list[tuple[str, dict[str, str]]]:
    """The most expensive reads found: each reads every post, or nearly, or the long lists of
    common trigrams; with `thread` (a post's id, its number of comments) also the deepest page
    and the exact count of that post's comments."""
    quote = urllib.parse.quote
    reads: list[tuple[str, dict[str, str]]] = [
        ("/posts/?search=" + quote("~"), {}),
        ("/posts/?search=" + quote("%%%"), {}),
        ("/posts/?search=a&limit=100", {"Prefer": "count=exact"}),
        (f"/posts/?skip={max(posts - 10, 0)}", {}),
        ("/posts/", {"Prefer": "count=exact"}),
        ("/posts/?search=" + quote(LONG_SEARCH), {}),
        *(("/posts/?search=" + quote(words), {}) for words in COMMON_WORDS),
    ]
    if thread:
        post, comments = thread
        reads += [
            (f"/posts/{post}/comments?skip={max(comments - 10, 0)}", {}),
            (f"/posts/{post}/comments", {"Prefer": "count=exact"}),
        ]
    return reads


def seed_thread(comments: int) -> tuple[int, int]:
    """`comments` comments on the first published post, oldest first, one second apart (as
    bench/threads.py seeds make bench's, by one INSERT ... SELECT: the triggers run per row);
    (the post's id, `comments`)."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as db:
        row = db.execute("SELECT min(id) FROM posts_post WHERE published AND NOT hidden").fetchone()
        if row is None or row[0] is None:
            raise SystemExit("no published post to comment on")
        post = row[0]
        users = [row[0] for row in db.execute("SELECT id FROM accounts_user ORDER BY id LIMIT 100")]
        db.execute("DELETE FROM comments_comment WHERE post_id = %s", [post])
        db.execute(
            "INSERT INTO comments_comment (post_id, owner_id, content, created_at) "
            "SELECT %s, (%s::bigint[])[1 + i %% %s], 'comment ' || i, "
            "now() - make_interval(secs => %s - i) FROM generate_series(1, %s) i",
            [post, users, len(users), comments, comments],
        )
        db.execute("ANALYZE comments_comment")
    return post, comments


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
# Seconds each attacking client waits after every answer, as the floor's clients do: the attack
# and the floor then send at the same pace, and the figure tells costly reads from a flood
# (which a per-client cap in front of the app bounds: deploy/nginx.conf). A client that reads
# Retry-After waits longer after a 429.
PAUSE = 0.05
SLICE = 2.0  # seconds per quiet or attacked slice of a phase


def attack(url: str, token: str, reads: list, clients: int, go, stop, in_flight, results) -> None:
    """`clients` threads looping over `reads` while the Event `go` is set, until `stop` is,
    pausing PAUSE after every answer; `in_flight` (a shared int) counts
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
    label: str,
    env: dict[str, str],
    posts: int,
    clients: int,
    seconds: float,
    reads: list | None = None,
    thread: tuple[int, int] | None = None,
) -> dict:
    """One server with `env` added: the victim's times alone, then under `clients` attackers
    looping over `reads` (worst_reads(posts, thread) by default); prints and returns the figures."""
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
            args=(
                server.url,
                attacker,
                reads or worst_reads(posts, thread),
                clients,
                go,
                stop,
                in_flight,
                results,
            ),
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
    floor: bool = False,
    thread: tuple[int, int] | None = None,
) -> str:
    """`runs` rounds, each against the server as configured (without Redis: the budget is
    counted in PostgreSQL), after the FLOOR with `floor`; `env` is added to each server's, and
    the attackers read `thread`'s comments too (worst_reads). Returns the summary line: the
    median ratios and how many were within GOAL."""
    setups = [("as configured", {"REDIS_URL": ""})]
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
            figures = measure(label, {**env, **extra}, posts, clients, seconds, thread=thread)
            ratios[label].append(figures["median ratio"])
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
        "--comments", type=int, default=100_000, help="comments on one post, for the attackers' deep pages"
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
    thread = seed_thread(args.comments)
    print(f"a thread of {thread[1]} comments on post {thread[0]}; load average {load_average()}", flush=True)
    if args.unbounded:
        measure("without bounds", UNBOUNDED, args.posts, args.clients, args.duration, thread=thread)
    rounds({}, args.posts, args.clients, args.duration, args.runs, args.floor, thread)


if __name__ == "__main__":
    main()
