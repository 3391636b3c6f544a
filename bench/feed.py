# A local tool: its data comes from manage.py seed, its requests go to its own servers.
"""`make bench-feed`: the home feed (GET /feed) at scale, beside the posts list, in one run.

Data, in a database of its own on the bench's PostgreSQL server (``bench_feed``, kept between
runs and only checked by later ones; ``DROP DATABASE bench_feed`` to seed it again):

- ``--users`` users and ``--posts`` posts, no votes, and a power-law social graph, all by
  ``manage.py seed --follows`` (COPY, indexes built after the load): each user follows
  ``10 * Pareto(1.5)`` others (most follow tens, a few thousands, capped at 5,000); user1 (the
  celebrity) is followed by every other user; user2, user3 and user4 follow exactly 10, 1,000
  and 10,000 users.

Scenarios under wrk (bench/feed_scenarios.py, as ``make bench`` runs them: best of ``--rounds``,
the rounds taken in turns), against one gunicorn as bench/run.py serves it: ``GET
/posts/?limit=10`` (the yardstick), the feed's first page and a page 1,000 posts deep (by the
cursors of its ``Link`` headers) for each reader, and ``POST /posts/`` by the celebrity and by
the least followed user. Then the feed designs' SQL (the ids of a page), timed from the bench
process for each reader and page (median of ``--sql-runs``, and the database CPU per run): the one served (follows.feed: a
per-author LATERAL merge below 300 followees, a walk of the newest-first index hashing the
followees below 2,000, the same walk binary-searching the reader's followee set per candidate
post from 2,000 on), each of those plans alone, the walk probing the follows' unique index per
candidate post (the plan the binary search replaced), and the plain ``owner_id IN (followees)``
query that PostgreSQL plans by itself.

    make bench-feed ARGS="--users=100000 --posts=1000000"
"""

import argparse
import functools
import json
import os
import secrets
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import PASSWORD  # noqa: E402
from bench.report import load_average, machine  # noqa: E402
from bench.servers import PYTHON, Server, cpu_seconds, ensure_wrk, run, wrk  # noqa: E402

DATABASE = "bench_feed"
READERS = (10, 1_000, 10_000)
DEEP = 1_000  # posts down the feed for the deep page

# The designs compared with the one served (follows.feed: a per-author merge below 300
# followees, a walk of the newest-first index hashing the followees from 300, the same walk
# binary-searching the reader's followee set per candidate post from 2,000 on): each of its
# plans alone, whatever the number of followees, the walk probing follow_once per candidate
# post (what the binary search replaced), and the plain query PostgreSQL plans by itself. The
# ids of a page each.
DESIGNS = {
    "merge": """
        SELECT p.id FROM (
            SELECT %(user)s::bigint AS id UNION ALL
            SELECT f.followee_id FROM follows_follow f JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
            WHERE f.follower_id = %(user)s
        ) a CROSS JOIN LATERAL (
            SELECT p.id, p.created_at FROM posts_post p WHERE p.owner_id = a.id AND p.published AND NOT p.hidden {after}
            ORDER BY p.created_at DESC, p.id DESC LIMIT 11
        ) p ORDER BY p.created_at DESC, p.id DESC LIMIT 11""",
    "walk, hash": """
        SELECT p.id FROM posts_post p JOIN accounts_user u ON u.id = p.owner_id AND u.is_active WHERE p.published AND NOT p.hidden {after}
          AND (p.owner_id = %(user)s OR p.owner_id IN (SELECT followee_id FROM follows_follow WHERE follower_id = %(user)s))
        ORDER BY p.created_at DESC, p.id DESC LIMIT 11""",
    "walk, probes": """
        SELECT p.id FROM posts_post p JOIN accounts_user u ON u.id = p.owner_id AND u.is_active WHERE p.published AND NOT p.hidden {after}
          AND (p.owner_id = %(user)s OR (SELECT true FROM follows_follow f WHERE f.follower_id = %(user)s AND f.followee_id = p.owner_id))
        ORDER BY p.created_at DESC, p.id DESC LIMIT 11""",
    "walk, binary search": """
        SELECT p.id FROM posts_post p JOIN accounts_user u ON u.id = p.owner_id AND u.is_active WHERE p.published AND NOT p.hidden {after}
          AND (p.owner_id = %(user)s OR (SELECT array_cat(s.followees, '{{}}') FROM follows_followeeset s WHERE s.user_id = %(user)s)
            [width_bucket(p.owner_id, (SELECT array_cat(s.followees, '{{}}') FROM follows_followeeset s WHERE s.user_id = %(user)s))] = p.owner_id)
        ORDER BY p.created_at DESC, p.id DESC LIMIT 11""",
    "plain": """
        SELECT p.id FROM posts_post p JOIN accounts_user u ON u.id = p.owner_id AND u.is_active WHERE p.published AND NOT p.hidden
          AND (p.owner_id = %(user)s OR p.owner_id IN (SELECT followee_id FROM follows_follow WHERE follower_id = %(user)s))
          {after}
        ORDER BY p.created_at DESC, p.id DESC LIMIT 11""",
}


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
        "--sql-runs",
        type=int,
        default=200,
        help="runs of each design's SQL (fewer after 3 s); the median is kept",
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
    from bench import datasets, feed_scenarios, probe

    print(machine(probe.postgres_version()), flush=True)
    url, seeded = prepare(datasets, args)
    print(f"== {args.users} users, {args.posts} posts: {seeded}; load average {load_average()}", flush=True)
    datasets.use_database(url)
    server = Server(env={"DATABASE_URL": url, "POST_RATE": "1000000/minute"})
    server.database_pid = probe.postmaster_pid()
    server.start()
    try:
        rows = feed_scenarios.measure(server, None, args, wrk, best, probe)
    finally:
        server.stop()
    designs = compare_designs(args.sql_runs)
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


def best(rounds: list[dict]) -> dict:
    """The best round (neighbours only slow one down), with the failures of all."""
    row = dict(max(rounds, key=lambda r: r["rps"]))
    row["failed"] = sum(r["failed"] for r in rounds)
    return row


# -- the designs, in SQL


def compare_designs(runs: int) -> list[dict]:
    """Median milliseconds of each design's page ids, per reader, on the first page and DEEP
    posts down (or the feed's last full page): the served one (follows.feed.feed_ids, which
    picks its plan by the follow count; the served page, follows.feed.feed_page, runs it inside
    its one statement) and DESIGNS."""
    from accounts.models import User
    from api.paging import NEXT
    from follows.feed import feed_ids, feed_posts

    rows = []
    backend = _backend_pid()
    for n in READERS:
        user = User.objects.get(email=reader_email(n))
        feed = feed_ids(user.pk, position=None, direction=NEXT, limit=DEEP + 1)
        depth = min(DEEP, len(feed) - 11) // 10 * 10
        (deep,) = feed_posts([feed[depth - 1]])
        for page, position in (("first", None), (f"{depth:,} deep", (deep.created_at, deep.id))):
            after = "AND (p.created_at, p.id) < (%(at)s, %(id)s)" if position else ""
            values = {"user": user.pk, "at": position and position[0], "id": position and position[1]}
            served = feed_ids(user.pk, position=position, direction=NEXT, limit=11)
            calls: dict[str, Callable[[], list[int]]] = {
                "served": functools.partial(feed_ids, user.pk, position=position, direction=NEXT, limit=11)
            }
            for name, sql in DESIGNS.items():
                if name != "merge" or n < 5_000:  # the merge alone takes 0.1 s a page from there
                    calls[name] = functools.partial(_ids, sql.format(after=after), values)
            timings = {}
            for design, call in calls.items():
                if call() != served:
                    raise SystemExit(f"{design} disagrees with the served feed for follows {n:,} {page}")
                timings[design] = _time(call, runs, backend)
            rows.append({"reader": n, "page": page, **timings})
            print(f"   SQL follows {n:,} {page}: {json.dumps(timings)}", flush=True)
    return rows


def _backend_pid() -> int | None:
    """The bench connection's server process, when the server is the embedded one (its CPU time
    is then this connection's alone)."""
    from django.db import connection

    from bench import probe

    if probe.postmaster_pid() is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _time(call: Callable[[], object], runs: int, backend: int | None) -> tuple[float, float | None]:
    """`call`'s median milliseconds over `runs` runs (fewer, at least 5, once 3 s have gone), and
    the database CPU milliseconds per run of `backend` (None without one). CPU time moves far
    less with a busy machine than elapsed time does."""
    samples: list[float] = []
    cpu = cpu_seconds(backend)
    began = time.perf_counter()
    while len(samples) < runs and (len(samples) < 5 or time.perf_counter() - began < 3):
        started = time.perf_counter()
        call()
        samples.append(1000 * (time.perf_counter() - started))
    db = 1000 * (cpu_seconds(backend) - cpu) / len(samples) if backend else None
    return statistics.median(samples), db


def _ids(sql: str, values: dict) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [row[0] for row in cursor.fetchall()]


def _cell(elapsed: float, cpu: float | None) -> str:
    return f"{elapsed:.2f} / " + ("-" if cpu is None else f"{cpu:.2f}")


def report(rows: list[dict], designs: list[dict]) -> str:
    """The Markdown tables of bench/RESULTS.md (the ratios are printed by bench/feed_scenarios.py)."""
    list_rps = rows[0]["rps"]
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
    names = ["served", *DESIGNS]
    lines += [
        "",
        "Each cell: median ms elapsed / database CPU ms per run (the ids of a page).",
        "",
        "| reader follows | page | served (merge < 300 followees, walk with hash < 2,000, walk with binary search) | "
        + " | ".join(f"{name} alone" for name in names[1:])
        + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for row in designs:
        cells = [_cell(*row[name]) if name in row else "-" for name in names]
        lines.append(f"| {row['reader']:,} | {row['page']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
