"""Three ways to keep a post's vote count, measured against each other in one run, at the SQL
level (no HTTP): the choice behind votes/triggers.py.

- ``row lock``: each vote updates the post's counter row (the design before the deltas): voters
  on one post queue on that row until each commits.
- ``slots``: each vote upserts one of SLOTS rows of the post (``hash(user) % SLOTS``); a read sums
  them. Voters queue per slot only.
- ``deltas``: the design in votes/triggers.py: the voter that gets the post's row without waiting
  adds to it (folding the pending deltas); the others append a delta row.

THREADS connections vote and retract (one transaction each: the vote row and the count) for
SECONDS, all on one post, then each on a post of its own; the figure is transactions per second,
and the one-post share of the spread case. A read of one post's count is timed after each run
(READS reads, one connection): with slots a read sums SLOTS rows, with deltas it adds the
pending deltas left. Tables live in a schema of their own, dropped at the end.

    .venv/bin/python -m devdb.embedded .venv/bin/python bench/counter_designs.py
"""

import os
import threading
import time

import psycopg

THREADS, SECONDS, SLOTS, USERS_PER_THREAD, READS = 16, 5, 16, 50, 2000
SCHEMA = "bench_counter_designs"

SETUP = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
SET search_path TO {SCHEMA};
CREATE TABLE post (id bigint PRIMARY KEY, title text NOT NULL, total bigint NOT NULL DEFAULT 0);
-- sort=top's index: an UPDATE of total is never HOT, as on posts_post.
CREATE INDEX post_top ON post (total DESC, id DESC);
CREATE TABLE vote (user_id bigint NOT NULL, post_id bigint NOT NULL REFERENCES post, PRIMARY KEY (user_id, post_id));
CREATE TABLE slot (post_id bigint NOT NULL REFERENCES post, slot int NOT NULL, n bigint NOT NULL,
                   PRIMARY KEY (post_id, slot));
CREATE TABLE delta (id bigserial PRIMARY KEY, post_id bigint NOT NULL REFERENCES post, delta smallint NOT NULL);
CREATE INDEX delta_post ON delta (post_id);
INSERT INTO post (id, title) SELECT g, 'post ' || g FROM generate_series(1, {THREADS + 1}) g;
CREATE FUNCTION change_delta(p bigint, c int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE pending bigint;
BEGIN
    PERFORM 1 FROM post WHERE id = p FOR NO KEY UPDATE SKIP LOCKED;
    IF FOUND THEN
        WITH f AS (DELETE FROM delta WHERE post_id = p RETURNING delta) SELECT coalesce(sum(delta), 0) INTO pending FROM f;
        UPDATE post SET total = total + c + pending WHERE id = p;
    ELSE
        INSERT INTO delta (post_id, delta) VALUES (p, c);
    END IF;
END $$;
"""  # noqa: S608 (this module's constants only)

COUNT = {
    "row lock": "UPDATE post SET total = total + %(c)s WHERE id = %(p)s",
    "slots": f"INSERT INTO slot VALUES (%(p)s, %(u)s %% {SLOTS}, %(c)s) ON CONFLICT (post_id, slot) DO UPDATE SET n = slot.n + excluded.n",  # noqa: S608
    "deltas": "SELECT change_delta(%(p)s, %(c)s)",
}
READ = {
    "row lock": "SELECT total FROM post WHERE id = %(p)s",
    "slots": "SELECT coalesce(sum(n), 0) FROM slot WHERE post_id = %(p)s",
    "deltas": "SELECT total + coalesce((SELECT sum(delta) FROM delta WHERE post_id = %(p)s), 0) FROM post WHERE id = %(p)s",
}


def run(url: str, design: str, one_post: bool) -> float:
    """Transactions per second of THREADS voters (each vote or retraction one transaction)."""
    done = threading.Event()
    counts = [0] * THREADS
    barrier = threading.Barrier(THREADS + 1)

    def voter(index: int) -> None:
        post = 1 if one_post else index + 2
        users = [index * USERS_PER_THREAD + k for k in range(USERS_PER_THREAD)]
        with psycopg.connect(url, options=f"-c search_path={SCHEMA}") as db:
            barrier.wait()
            step = 0
            while not done.is_set():
                user, add = users[step % len(users)], (step // len(users)) % 2 == 0
                with db.transaction():
                    if add:
                        db.execute("INSERT INTO vote VALUES (%s, %s)", (user, post))
                    else:
                        db.execute("DELETE FROM vote WHERE user_id = %s AND post_id = %s", (user, post))
                    db.execute(COUNT[design], {"p": post, "u": user, "c": 1 if add else -1})
                step += 1
            counts[index] = step

    threads = [threading.Thread(target=voter, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.monotonic()
    time.sleep(SECONDS)
    done.set()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - start)


def check_and_time_reads(url: str, design: str) -> tuple[bool, float]:
    """(the one post's count equals its rows, µs per read of it)."""
    with psycopg.connect(url, options=f"-c search_path={SCHEMA}", autocommit=True) as db:
        [(rows,)] = db.execute("SELECT count(*) FROM vote WHERE post_id = 1").fetchall()
        [(shown,)] = db.execute(READ[design], {"p": 1}).fetchall()
        start = time.perf_counter()
        for _ in range(READS):
            db.execute(READ[design], {"p": 1}, prepare=True).fetchone()
        return int(shown) == rows, 1e6 * (time.perf_counter() - start) / READS


def main() -> None:
    url = os.environ["DATABASE_URL"]
    print(f"load average {os.getloadavg()}; {THREADS} connections, {SECONDS} s per run", flush=True)
    print("| design | one post tx/s | a post each tx/s | one / each | one post's count exact | read µs |")
    print("|---|---:|---:|---:|---|---:|")
    try:
        for design in COUNT:
            with psycopg.connect(url, autocommit=True) as db:
                db.execute(SETUP)
            one = run(url, design, one_post=True)
            exact, read_us = check_and_time_reads(url, design)
            each = run(url, design, one_post=False)
            print(
                f"| {design} | {one:.0f} | {each:.0f} | {100 * one / each:.0f}% | {exact} | {read_us:.0f} |",
                flush=True,
            )
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
