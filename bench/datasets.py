"""The data `make bench` measures: its sizes, where each lives, and seeding them.

1k and 1M are seeded again on every run into the bench's database (the embedded PostgreSQL, or
DATABASE_URL), as `manage.py seed` replaces what it loaded before. 1M and 10M carry the social
graph (``seed --follows``: user1 followed by everyone, user2/3/4 following 10, 1,000 and 10,000
users); at 10M a million users, so the celebrity has about a million followers. 10M posts / 30M
votes take minutes to load, so they live in a database of their own on the same PostgreSQL
server, ``bench_10m``: created, migrated and seeded by the first run that asks for 10M, then kept
and only checked by later runs, after each is tidied back to the seeded rows (``tidy``: a create or
vote still in flight when a round's clean-up ran commits after it). The seeding time is kept in the database's comment and printed
by every run that uses it. Drop it with ``DROP DATABASE bench_10m`` to seed it again.
"""

import os
import re
import time
import urllib.parse

import psycopg
from django.db import connection

from bench.servers import PYTHON, run
from demo import rows

PASSWORD = "bench-password-123"  # noqa: S105 (the seeded users' password)
SIZES = {
    "1k": {"users": 500, "posts": 1_000, "votes": 5_000},
    "1M": {"users": 10_000, "posts": 1_000_000, "votes": 3_000_000, "follows": True},
    "10M": {"users": 1_000_000, "posts": 10_000_000, "votes": 30_000_000, "follows": True},
}
# Sizes kept between runs, each in a database of its own on the bench's PostgreSQL server.
KEPT = {"10M": "bench_10m"}
# The tables `tidy` deletes runs' rows from.
TIDIED = ("posts_post", "votes_vote", "follows_follow")


def database_url(name: str | None = None) -> str:
    """A postgres:// URL (as DATABASE_URL takes it) for database `name` on the server the bench
    process is connected to; `name` None: the bench's own database."""
    s = connection.settings_dict
    user = urllib.parse.quote(s["USER"] or "", safe="")
    password = f":{urllib.parse.quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    host = urllib.parse.quote(s["HOST"] or "localhost", safe="")  # a socket folder is quoted
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{urllib.parse.quote(name or s['NAME'], safe='')}"


def seed_options(size: str, allow_existing_data: str = "") -> list[str]:
    options = [f"--{k}" if v is True else f"--{k}={v}" for k, v in SIZES[size].items()]
    options.append(f"--password={PASSWORD}")
    if allow_existing_data:
        options.append(f"--allow-existing-data={allow_existing_data}")
    return options


def prepare(size: str, allow_existing_data: str = "") -> tuple[str, str]:
    """Make `size`'s data ready; return the URL of its database and a line saying how it was
    seeded (now, or by an earlier run, and in how many seconds)."""
    if size not in KEPT:
        started = time.monotonic()
        run([PYTHON, "manage.py", "seed", *seed_options(size, allow_existing_data)])
        return database_url(), f"seeded in {time.monotonic() - started:.0f} s"
    name = KEPT[size]
    url = database_url(name)
    with psycopg.connect(database_url(), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env)
    with psycopg.connect(url, autocommit=True) as db:
        removed = tidy(db, SIZES[size])
        if removed:
            print(f"   {name}: removed what earlier runs left beyond the seeded rows: {removed}", flush=True)
        # The rows runs added and deleted (these, and every create round's) are dead entries at
        # the head of the newest-first indexes, read past by every walk from the newest post
        # until a VACUUM removes them: autovacuum would in a running database.
        db.execute(f"VACUUM {', '.join(TIDIED)}")
        if _holds(db, SIZES[size]):
            (comment,) = db.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                    "WHERE datname = current_database()").fetchall()[0]  # fmt: skip
            return url, f"kept from an earlier run in database {name} ({comment or 'seeding time unknown'})"
    started = time.monotonic()
    run([PYTHON, "manage.py", "seed", *seed_options(size)], env=env)
    seconds = time.monotonic() - started
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"COMMENT ON DATABASE \"{name}\" IS 'seeded in {seconds:.0f} s on {stamp}'")
    return url, f"seeded now in database {name} in {seconds:.0f} s"


def tidy(db: psycopg.Connection, counts: dict) -> str:
    """Delete the rows earlier runs added to a seeded database beyond the seed's: the posts,
    votes and follows whose ids are above the highest the seed gave (demo/rows.py's
    ``last_ids``; a post's votes, comments and reports go with it, its vote count follows the
    votes). Seeded rows that runs changed or deleted are not put back. Returns what was deleted
    ("" when nothing was), e.g. "3 posts, 1 vote"."""
    plan = rows.Plan(counts["users"], counts["posts"], counts["votes"], bool(counts.get("follows")), "", {})
    last = rows.last_ids(plan)
    removed = []
    for table, key in zip(TIDIED, ("posts", "votes", "follows"), strict=True):
        deleted = db.execute(f"DELETE FROM {table} WHERE id > %s", [last[key]]).rowcount  # noqa: S608
        if deleted:
            removed.append(f"{deleted} {key if deleted > 1 else key[:-1]}")
    return ", ".join(removed)


def _holds(db: psycopg.Connection, counts: dict[str, int]) -> bool:
    """Whether the database holds exactly the seeded users and posts of these counts, and a
    social graph when the size has one (user1's followers: every other user)."""
    ((users, posts, followers),) = db.execute(
        "SELECT (SELECT count(*) FROM accounts_user), (SELECT count(*) FROM posts_post),"
        " (SELECT count(*) FROM follows_follow WHERE followee_id = 1)"
    ).fetchall()
    graph = counts["users"] - 1 if counts.get("follows") else 0
    return (users, posts, followers) == (counts["users"], counts["posts"], graph)


def use_database(url: str) -> None:
    """Point the bench process's own queries (probe, revocation) at the database of `url`."""
    name = urllib.parse.unquote(re.sub(r"\?.*$", "", url).rsplit("/", 1)[1])
    connection.close()
    connection.settings_dict["NAME"] = name
