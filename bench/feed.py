# ruff: noqa: S310  (a local tool: it requests our own server)
"""`make bench-feed`: the home feed (GET /feed) at scale, beside the posts list, in one run.

Data, in a database of its own on the bench's PostgreSQL server (``bench_feed``, kept between
runs and only checked by later ones; ``DROP DATABASE bench_feed`` to seed it again):

- ``--users`` users and ``--posts`` posts, no votes, and a power-law social graph, all by
  ``manage.py seed --follows`` (COPY, indexes built after the load): each user follows
  ``10 * Pareto(1.5)`` others (most follow tens, a few thousands, capped at 5,000); user1 (the
  celebrity) is followed by every other user; user2, user3 and user4 follow exactly 10, 1,000
  and 10,000 users.

Scenarios under wrk (best of ``--rounds``, the rounds taken in turns), against one gunicorn as
bench/run.py serves it: ``GET /posts/?limit=10`` (the yardstick), the feed's first page and a
page 1,000 posts deep (by the cursor of its ``Link`` header) for each reader, and ``POST
/posts/`` by the celebrity and by a user nobody follows. Then three feed designs' SQL, timed
from the bench process for each reader and page (median of ``--sql-runs``): the one served
(follows.feed: a per-author LATERAL merge below 300 followees, a walk of the newest-first index
from 300 on, then the page's posts by id), the merge alone, and the plain ``owner_id IN
(followees)`` query that PostgreSQL plans by itself.

    make bench-feed ARGS="--users=100000 --posts=1000000"
"""

import argparse
import json
import os
import secrets
import statistics
import sys
import time
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import PASSWORD  # noqa: E402
from bench.report import load_average, machine  # noqa: E402
from bench.servers import PYTHON, Server, ensure_wrk, run, wrk  # noqa: E402

DATABASE = "bench_feed"
READERS = (10, 1_000, 10_000)
DEEP = 1_000  # posts down the feed for the deep page

# The designs compared with the one served (follows.feed: a per-author merge below 300
# followees, a walk of the newest-first index from 300 on, then the posts by id): the merge
# alone, whatever the number of followees, and the plain query PostgreSQL plans by itself.
MERGE_ONLY = """
    SELECT p.id FROM (
        SELECT %(user)s::bigint AS id UNION ALL
        SELECT f.followee_id FROM follows_follow f JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
        WHERE f.follower_id = %(user)s
    ) a CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts_post p WHERE p.owner_id = a.id AND p.published AND NOT p.hidden {after}
        ORDER BY p.created_at DESC, p.id DESC LIMIT 11
    ) p ORDER BY p.created_at DESC, p.id DESC LIMIT 11
"""
PLAIN = """
    SELECT p.*, u.* FROM posts_post p JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden
      AND (p.owner_id = %(user)s OR p.owner_id IN (SELECT followee_id FROM follows_follow WHERE follower_id = %(user)s))
      {after}
    ORDER BY p.created_at DESC, p.id DESC LIMIT 11
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="wrk runs per scenario; the best is kept")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--sql-runs", type=int, default=30, help="runs of each design's SQL; the median is kept"
    )
    args = parser.parse_args()
    ensure_wrk()
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.chdir(ROOT)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"])
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench import datasets, probe

    print(machine(probe.postgres_version()), flush=True)
    url, seeded = prepare(datasets, args)
    print(f"== {args.users} users, {args.posts} posts: {seeded}; load average {load_average()}", flush=True)
    datasets.use_database(url)
    server = Server(env={"DATABASE_URL": url})
    server.database_pid = probe.postmaster_pid()
    server.start()
    try:
        rows, depths = measure(server, args)
    finally:
        server.stop()
    designs = compare_designs(args.sql_runs, depths)
    print(report(rows, designs), flush=True)


# -- the data


def prepare(datasets, args) -> tuple[str, str]:
    """The feed's database, seeded (now or by an earlier run); its URL and how it was seeded."""
    import psycopg

    url = datasets.database_url(DATABASE)
    with psycopg.connect(datasets.database_url(), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    env = {**os.environ, "DATABASE_URL": url}
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env)
    with psycopg.connect(url, autocommit=True) as db:
        ((users, posts, follows),) = db.execute(
            "SELECT (SELECT count(*) FROM accounts_user), (SELECT count(*) FROM posts_post WHERE title <> 'bench'),"
            " (SELECT count(*) FROM follows_follow)"
        ).fetchall()
        if (users, posts) == (args.users, args.posts) and follows:
            db.execute("DELETE FROM posts_post WHERE title = 'bench'")  # an earlier run's write scenarios
            (comment,) = db.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
            ).fetchall()[0]
            return url, f"kept from an earlier run ({comment}; {follows} follows)"
    started = time.monotonic()
    seed = [
        PYTHON,
        "manage.py",
        "seed",
        f"--users={args.users}",
        f"--posts={args.posts}",
        "--votes=0",
        "--follows",
    ]
    run([*seed, f"--password={PASSWORD}"], env=env)
    with psycopg.connect(url, autocommit=True) as db:
        ((follows,),) = db.execute("SELECT count(*) FROM follows_follow").fetchall()
        note = f"seeded in {time.monotonic() - started:.0f} s on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        db.execute(f"COMMENT ON DATABASE \"{DATABASE}\" IS '{note}'")
        db.execute("VACUUM ANALYZE")
    return url, f"{note}; {follows} follows"


def reader_email(followees: int) -> str:
    """The seeded user who follows exactly `followees` users: `manage.py seed --follows` makes
    user2, user3 and user4 follow 10, 1,000 and 10,000 (demo/rows.py's READERS)."""
    return f"user{2 + READERS.index(followees)}@example.com"


# -- over HTTP


def deep_cursor(server: Server, token: str) -> tuple[str, int]:
    """The path of the feed's page DEEP posts down (or its last full page, for a shorter feed),
    by the cursors of its Link headers, and how many posts down it starts."""
    path, depth, step = "/feed?limit=10", 0, 10
    while depth < DEEP:
        request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            link, count = response.headers["Link"], len(json.loads(response.read()))
        after = [part for part in link.split(", ") if part.endswith('rel="next"')]
        if not after or count < step:
            break
        next_path = after[0].split(">")[0].split(server.url, 1)[1]
        if depth + count >= DEEP or _page_size(server, next_path, token) == step:
            path, depth = next_path, depth + count
        else:
            break
    return path, depth


def _page_size(server: Server, path: str, token: str) -> int:
    request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(json.loads(response.read()))


def measure(server: Server, args) -> tuple[list[dict], dict[int, int]]:
    """Every HTTP scenario, the rounds in turns; one row each (best round), and how deep each
    reader's deep page starts."""
    tokens = {n: server.login(reader_email(n), PASSWORD) for n in READERS}
    celebrity = server.login("user1@example.com", PASSWORD)
    nobody = server.login(lonely_email(), PASSWORD)
    depths: dict[int, int] = {}
    scenarios: list[tuple[str, dict]] = [
        ("list (GET /posts/)", {"BENCH_PATH": "/posts/?limit=10", "BENCH_TOKEN": tokens[10]})
    ]
    for n in READERS:
        scenarios.append((f"feed, follows {n:,}", {"BENCH_PATH": "/feed?limit=10", "BENCH_TOKEN": tokens[n]}))
        deep, depth = deep_cursor(server, tokens[n])
        depths[n] = depth
        scenarios.append(
            (f"feed {depth:,} deep, follows {n:,}", {"BENCH_PATH": deep, "BENCH_TOKEN": tokens[n]})
        )
    scenarios.append(("post by the celebrity", {"BENCH_MODE": "post", "BENCH_TOKEN": celebrity}))
    scenarios.append(("post by a user nobody follows", {"BENCH_MODE": "post", "BENCH_TOKEN": nobody}))
    for name, env in scenarios:  # every answer must be a 200 before anything is timed
        if env.get("BENCH_PATH") and (status := server.status(env["BENCH_PATH"], env["BENCH_TOKEN"])) != 200:
            raise SystemExit(f"{name}: HTTP {status}")
    wrk(server, args, {"BENCH_MODE": "get", **scenarios[1][1]}, 3)  # warm up
    rounds: dict[str, list[dict]] = {name: [] for name, _ in scenarios}
    # The reads' rounds first: the posts the write scenarios add would be the newest in the table,
    # and every later feed page would read past them.
    reads = [(name, env) for name, env in scenarios if "BENCH_PATH" in env]
    for batch in (reads, [(name, env) for name, env in scenarios if "BENCH_PATH" not in env]):
        for _ in range(args.rounds):
            for name, env in batch:
                rounds[name].append(wrk(server, args, {"BENCH_MODE": "get", **env}, args.duration))
    rows = []
    for name, _ in scenarios:
        best = dict(max(rounds[name], key=lambda r: r["rps"]))
        best["failed"] = sum(r["failed"] for r in rounds[name])
        rows.append({"scenario": name, **best})
        print(f"   {name:34} {json.dumps(best)}", flush=True)
    return rows, depths


def lonely_email() -> str:
    """A seeded user no one follows but the graph's randomness (the last user, most likely)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.email FROM accounts_user u WHERE u.id > 4 AND NOT EXISTS "
            "(SELECT 1 FROM follows_follow f WHERE f.followee_id = u.id AND f.follower_id <> ("
            "SELECT min(id) FROM accounts_user)) ORDER BY u.id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else "user100@example.com"


# -- the designs, in SQL


def compare_designs(runs: int, depths: dict[int, int]) -> list[dict]:
    """Median milliseconds of each design's page, per reader, first and deep page: the served one
    as the view reads it (follows.feed's two queries), the others as SQL."""
    from django.db import connection

    from accounts.models import User
    from api.paging import NEXT
    from follows.feed import feed_ids, feed_posts

    rows = []
    for n in READERS:
        user = User.objects.get(email=reader_email(n))
        feed = feed_ids(user.pk, position=None, direction=NEXT, limit=DEEP + 1)
        depth = depths[n]  # the deep page measured over HTTP
        (deep,) = feed_posts([feed[depth - 1]])
        for page, position in (("first", None), (f"{depth:,} deep", (deep.created_at, deep.id))):
            after = "AND (p.created_at, p.id) < (%(at)s, %(id)s)" if position else ""
            values = {
                "user": user.pk,
                "at": position[0] if position else None,
                "id": position[1] if position else None,
            }
            designs = {
                "served": lambda position=position, user=user: feed_posts(
                    feed_ids(user.pk, position=position, direction=NEXT, limit=11)[:10]
                ),
                "merge": lambda after=after, values=values: _run(
                    connection, MERGE_ONLY.format(after=after), values
                ),
                "plain": lambda after=after, values=values: _run(
                    connection, PLAIN.format(after=after), values
                ),
            }
            timings = {}
            for design, call in designs.items():
                samples = []
                for _ in range(runs):
                    started = time.perf_counter()
                    call()
                    samples.append(1000 * (time.perf_counter() - started))
                timings[design] = statistics.median(samples)
            rows.append({"reader": n, "page": page, **timings})
            print(f"   SQL follows {n:,} {page}: {json.dumps(timings)}", flush=True)
    return rows


def _run(connection, sql: str, values: dict) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchall()


def report(rows: list[dict], designs: list[dict]) -> str:
    """The Markdown tables of bench/RESULTS.md, and the goals' ratios."""
    by = {row["scenario"]: row for row in rows}
    list_rps = by["list (GET /posts/)"]["rps"]
    lines = [
        "| scenario | req/s | / list | p50 ms | p99 ms | app CPU ms/req | db CPU ms/req | failed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        db_cpu = f"{row['db_cpu_ms']:.2f}" if row.get("db_cpu_ms") is not None else "-"
        lines.append(
            f"| {row['scenario']} | {row['rps']:.0f} | {row['rps'] / list_rps:.2f} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['app_cpu_ms']:.2f} | {db_cpu} | {row['failed']} |"
        )
    first = [by[f"feed, follows {n:,}"] for n in READERS]
    lines += [
        "",
        f"- feed follows 10,000 / follows 10 (p50 time): {first[-1]['p50_ms'] / first[0]['p50_ms']:.2f}x; "
        f"(requests/s): {first[0]['rps'] / first[-1]['rps']:.2f}x fewer",
        "- celebrity's post / anyone's (p50 time): "
        f"{by['post by the celebrity']['p50_ms'] / by['post by a user nobody follows']['p50_ms']:.2f}x",
        "",
        "| reader follows | page | served: merge below 300 followees, walk from 300, then by id ms "
        "| merge per author alone ms | plain owner_id IN (followees) ms |",
        "|---|---|---|---|---|",
    ]
    for row in designs:
        lines.append(
            f"| {row['reader']:,} | {row['page']} | {row['served']:.2f} | {row['merge']:.2f} | {row['plain']:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
