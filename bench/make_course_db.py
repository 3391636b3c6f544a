"""Build a database like a running deployment of the original course API, for import timing.

    .venv/bin/python bench/make_course_db.py postgresql://postgres@127.0.0.1:5432/course_big \
        --users 10000 --posts 1000000 --votes 3000000

Creates the database (it must not exist), loads the original's schema and sample rows from
course_import/tests/fixtures/original_schema.sql, then adds generated rows on the server itself.
"""

import argparse
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

SCHEMA = (
    Path(__file__).resolve().parent.parent / "course_import" / "tests" / "fixtures" / "original_schema.sql"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="the database to create, e.g. postgresql://postgres@127.0.0.1/course_big")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--votes", type=int, default=3_000_000)
    args = parser.parse_args()
    if args.votes > args.posts * (args.users - 2):
        parser.error("more votes than distinct (user, post) pairs")

    dbname = str(conninfo_to_dict(args.url)["dbname"])
    with psycopg.connect(make_conninfo(args.url, dbname="postgres"), autocommit=True) as server:
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))

    started = time.monotonic()
    with psycopg.connect(args.url) as db:
        db.execute(SCHEMA.read_text())
        [(hash_,)] = db.execute("SELECT password FROM users WHERE id = 1").fetchall()
        db.execute(
            "INSERT INTO users (email, password, created_at)"
            " SELECT 'user' || i || '@example.com', %s, now() - i * interval '1 minute'"
            " FROM generate_series(1, %s) i",
            [hash_, args.users],
        )
        db.execute(
            "INSERT INTO posts (title, content, owner_id, published, created_at)"
            " SELECT 'post number ' || i, repeat('Some words about this and that. ', 4) || i,"
            " 1 + i %% %s, i %% 10 <> 0, now() - i * interval '1 second'"
            " FROM generate_series(1, %s) i",
            [args.users, args.posts],
        )
        # Vote k is on post k mod P, by a user that differs for each of a post's votes.
        db.execute(
            "INSERT INTO votes (user_id, post_id)"
            " SELECT 1 + ((k %% %(p)s) * 31 + k / %(p)s) %% %(u)s, 1 + k %% %(p)s"
            " FROM generate_series(0, %(v)s - 1) k ON CONFLICT DO NOTHING",
            {"p": args.posts, "u": args.users, "v": args.votes},
        )
        [counts] = db.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), (SELECT count(*) FROM votes)"
        ).fetchall()
    print(
        f"{dbname}: {counts[0]:,} users, {counts[1]:,} posts, {counts[2]:,} votes in {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
