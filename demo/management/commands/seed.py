"""`manage.py seed`: demo and benchmark data, loaded with COPY.

Users are user1@example.com ... userU@example.com, all with one password, and all joined at
SEEDED_JOINED (no signup can give that instant): that is how a later run tells them from real
accounts of the same name. The data depends only on the arguments (random streams seeded by the
arguments and the slice, fixed timestamps; demo/rows.py), and a new run replaces what an earlier
run loaded: when the database holds seeded users only, by TRUNCATE (ids restart at 1, so the same
arguments give the same ids too, for votes and follows as well).

``--follows`` adds a social graph (demo/rows.py's CELEBRITY and READERS), which feed benchmarks
rely on: **user1 is the celebrity, followed by every other user; user2, user3 and user4 follow
exactly 10, 1,000 and 10,000 users** (at most users - 1), the celebrity among them; everyone else
follows ``10 * Pareto(1.5)`` users (most tens, a few thousands, at most 5,000).

On a database holding seeded users only, the load is fast: the secondary indexes, unique
constraints and foreign keys of the loaded tables are dropped (demo/schema.py, read from the
catalog) and rebuilt after it, and ``--jobs`` processes make and COPY the rows, one slice per
transaction, each over its own connection (demo/parallel.py). While they run, other sessions
see the tables emptied, then filling slice by slice (a slice's posts with their votes and
counts at once), without those indexes and keys; while the indexes are built, writes to the
tables wait. A load that fails is emptied and its indexes and keys rebuilt; one killed midway
leaves them to the next ``seed`` (demo/models.py's PendingRebuild). Inside a transaction
(tests) or with ``--jobs=1`` all of it is one transaction on one connection, the same rows.

A database that holds users seed did not create is refused, unless
``--allow-existing-data=<database name>`` names it; then only the seeded users, their posts and
every vote and follow touching them are replaced, in one transaction, through the indexes, and
everything else stays as it was.
"""

import os
import time
from collections.abc import Iterable
from contextlib import closing
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from accounts.models import User
from demo import parallel, rows, schema
from demo.rows import SEEDED_JOINED
from follows.models import Follow, FolloweeSet
from posts.models import Post
from votes import counter
from votes.models import Vote
from votes.triggers import TRIGGERS

SEEDED_EMAIL = r"^user[0-9]+@example\.com$"
# A seeded user: the name pattern and the instant, both; %s twice, (SEEDED_EMAIL, SEEDED_JOINED).
SEEDED_USER = "email ~ %s AND date_joined = %s"
# The CPUs this process may use (os.process_cpu_count, Python 3.13+), else the machine's.
CPUS = getattr(os, "process_cpu_count", os.cpu_count)() or 1
# The index builds' sort memory (maintenance_work_mem) in seed's transaction.
BUILD_MEMORY = "512MB"


class Command(BaseCommand):
    help = (
        "Replace the seeded users, posts, votes (and with --follows, follows) with a fresh, "
        "repeatable set. Meant for a development or benchmark database. On one holding seeded "
        "users only, it empties the tables with TRUNCATE, drops their secondary indexes, unique "
        "constraints and foreign keys, loads in parallel (other sessions see the tables fill "
        "slice by slice, without those indexes), then rebuilds them (writes wait meanwhile). With "
        "--allow-existing-data, one transaction: other sessions' votes wait for its recount."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=100)
        parser.add_argument("--posts", type=int, default=1_000)
        parser.add_argument("--votes", type=int, default=5_000, help="about this many distinct votes")
        parser.add_argument(
            "--follows",
            action="store_true",
            help="a social graph too: user1 followed by everyone; user2, user3, user4 follow 10, 1,000, "
            "10,000 users; the others 10 * Pareto(1.5), at most 5,000",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=CPUS,
            help="processes making and loading the rows (default: the CPUs this process may use)",
        )
        parser.add_argument("--password", default="password123")
        parser.add_argument(
            "--allow-existing-data",
            metavar="DATABASE_NAME",
            default="",
            help="seed a database that also holds other users (named, so it cannot be the wrong one)",
        )

    def handle(
        self,
        *args: Any,
        users: int,
        posts: int,
        votes: int,
        follows: bool,
        jobs: int,
        password: str,
        **options: Any,
    ) -> None:
        if users < 1 or posts < 0 or votes < 0 or jobs < 1:
            raise CommandError("--users and --jobs must be at least 1; --posts and --votes at least 0.")
        refuse_foreign_data(options["allow_existing_data"], users=users)
        self.verbosity = options["verbosity"]
        self.started = time.monotonic()
        self._say(f"load average {_load_average()}, {jobs} job(s)")
        password_hash = make_password(password)  # hashing is slow on purpose: once, for everyone
        quote = connection.ops.quote_name
        tables = {
            name: quote(model._meta.db_table)
            for name, model in (("users", User), ("posts", Post), ("votes", Vote), ("follows", Follow))
        }
        quiet = _counter_only_tables(tables)
        plan = rows.Plan(users, posts, votes, follows, password_hash, tables, without_triggers=quiet)
        self._say(f"COPY with no trigger firing into: {', '.join(sorted(quiet)) or 'none'}")
        if other_users():
            loaded = self._beside_others(plan)
        elif connection.in_atomic_block or jobs == 1:
            with transaction.atomic():
                loaded = self._replace_all(plan, jobs)
        else:
            loaded = self._replace_all(plan, jobs)
        started = time.monotonic()
        # VACUUM too where it may run (not inside a transaction): it marks the loaded pages
        # all-visible, as autovacuum would in a running database, so index-only scans read no
        # table pages (the feed's walk and follow counts, follows/feed.py).
        analyze = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        # The followee sets the follows' triggers wrote (follows/triggers.py) too.
        analyzed = [*tables.values(), FolloweeSet._meta.db_table]
        with connection.cursor() as cursor:
            cursor.execute(f"{analyze} {', '.join(analyzed)}")
        self._say(f"{analyze}: {time.monotonic() - started:.1f} s")
        graph = f", {loaded['follows']} follows" if follows else ""
        self.stdout.write(
            f"Seeded {users} users, {posts} posts, {loaded['votes']} votes{graph} in "
            f"{time.monotonic() - self.started:.0f} s; load average {_load_average()}."
        )

    def _say(self, line: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(f"  [{time.monotonic() - self.started:6.1f} s] {line}")

    def _replace_all(self, plan: rows.Plan, jobs: int) -> dict[str, int]:
        """The database holds seeded users only: TRUNCATE, then the fast load (module docstring).
        In one transaction when called inside one, else in the parallel processes. Returns the
        votes and follows loaded."""
        tables = [plan.tables[t] for t in ("users", "posts", "votes")] + (
            [plan.tables["follows"]] if plan.follows else []
        )
        in_one = connection.in_atomic_block
        with transaction.atomic(), counter.suspended(), connection.cursor() as cursor:
            self._truncate(cursor, plan)
            # What a load killed midway dropped is still in PendingRebuild: _rebuild() builds it too.
            dropped = schema.drop_for_load(cursor, tables)
        self._say(f"dropped {len(dropped)} indexes and constraints: {', '.join(p.name for p in dropped)}")
        if in_one:
            with transaction.atomic(), counter.suspended(), connection.cursor() as cursor:
                loaded = self._load_here(cursor.cursor, plan)
                self._rebuild(cursor, jobs)
            return loaded
        try:
            loaded = self._load_in_parallel(plan, jobs)
        except BaseException:
            with transaction.atomic(), counter.suspended(), connection.cursor() as cursor:
                self._truncate(cursor, plan)
                schema.rebuild(cursor)
            self._say("the load failed: the tables are emptied, their indexes and keys rebuilt")
            raise
        with transaction.atomic(), connection.cursor() as cursor:
            self._rebuild(cursor, jobs)
        return loaded

    def _truncate(self, cursor: CursorWrapper, plan: rows.Plan) -> None:
        # TRUNCATE refuses a table with foreign-key checks still queued for commit: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        t = plan.tables
        cursor.execute(
            f"TRUNCATE {t['votes']}, {t['posts']}, {t['follows']}, {t['users']} RESTART IDENTITY CASCADE"
        )

    def _load_here(self, cursor: Any, plan: rows.Plan) -> dict[str, int]:
        """Every slice over this connection (a psycopg cursor), in the caller's transaction;
        returns the votes and follows loaded."""
        units = plan.units()
        counts = [rows.dependent_rows(plan, unit) for unit in units]
        started = time.monotonic()
        loaded = {"votes": 0, "follows": 0}
        for unit, first_id, count in zip(units, parallel.first_ids(plan, counts), counts, strict=True):
            rows.load(cursor, plan, unit, first_id)
            loaded["votes" if unit[0] == "posts" else "follows"] += count
        self._say(f"generate+COPY, one connection: {time.monotonic() - started:.1f} s")
        return loaded

    def _load_in_parallel(self, plan: rows.Plan, jobs: int) -> dict[str, int]:
        params = {
            key: value
            for key, value in connection.get_connection_params().items()
            if isinstance(value, (str, int)) and not isinstance(value, bool)
        }
        names = {"users": "users", "posts": "posts and votes", "follows": "follows"}
        loaded = {"votes": 0, "follows": 0}
        current, started, busy = "", time.monotonic(), 0.0
        # closing(): an error here stops the processes at once (the generator's pool exits).
        with closing(parallel.load(params, plan, jobs)) as slices:
            for (table, _), seconds, count in slices:
                if current and table != current:  # a table's phase ends when its last slice commits
                    self._say_phase(names[current], time.monotonic() - started, busy, jobs)
                    started, busy = time.monotonic(), 0.0
                current = table
                busy += seconds
                loaded["votes" if table == "posts" else "follows"] += count
        if current:
            self._say_phase(names[current], time.monotonic() - started, busy, jobs)
        return loaded

    def _say_phase(self, name: str, seconds: float, busy: float, jobs: int) -> None:
        self._say(
            f"generate+COPY {name}: {seconds:.1f} s (the slices' own time {busy:.1f} s, {jobs} processes)"
        )

    def _rebuild(self, cursor: CursorWrapper, jobs: int) -> None:
        """Rebuild what the load dropped, and move the sequences past the loaded ids."""
        done = schema.rebuild(cursor, work_mem=BUILD_MEMORY, parallel_workers=max(jobs - 1, 0))
        for is_foreign_key, what in ((False, "index builds"), (True, "foreign keys (validation)")):
            steps = [(p, s) for p, s in done if p.is_foreign_key == is_foreign_key]
            detail = ", ".join(f"{p.name} {s:.1f}" for p, s in steps)
            self._say(f"{what}: {sum(s for _, s in steps):.1f} s ({detail})")
        _move_sequences(
            cursor, [connection.ops.quote_name(m._meta.db_table) for m in (User, Post, Vote, Follow)]
        )

    def _beside_others(self, plan: rows.Plan) -> dict[str, int]:
        """Replace only the seeded users and what touches them, in one transaction, through the
        indexes (other users' data stays)."""
        # Bulk loading: the vote counter stands aside in this transaction only (votes/counter.py);
        # the loader writes each post's count itself.
        with transaction.atomic(), counter.suspended(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            users, posts, votes = plan.tables["users"], plan.tables["posts"], plan.tables["votes"]
            seeded = f"SELECT id FROM {users} WHERE {SEEDED_USER}"  # noqa: S608 (constants only)
            cursor.execute(
                f"DELETE FROM {votes} WHERE user_id IN ({seeded}) OR post_id IN "  # noqa: S608
                f"(SELECT id FROM {posts} WHERE owner_id IN ({seeded}))",
                [SEEDED_EMAIL, SEEDED_JOINED] * 2,
            )
            cursor.execute(f"DELETE FROM {posts} WHERE owner_id IN ({seeded})", [SEEDED_EMAIL, SEEDED_JOINED])  # noqa: S608
            # The remaining posts may have lost votes of seeded users while the counter stood aside.
            counter.recount()
            # Through the ORM: it also removes group memberships, follows and admin log entries.
            User.objects.filter(email__regex=SEEDED_EMAIL, date_joined=SEEDED_JOINED).delete()
            user_base, post_base = (_max_id(cursor, plan.tables[t]) for t in ("users", "posts"))
            # Votes and follows take their ids from their sequences: other sessions may be adding rows.
            beside = rows.Plan(
                plan.users, plan.posts, plan.votes, plan.follows, plan.password_hash, plan.tables,
                user_base=user_base, post_base=post_base, ids=False,
            )  # fmt: skip
            loaded = self._load_here(cursor.cursor, beside)
            _move_sequences(cursor, [users, posts])
            schema.rebuild(cursor)  # what a fast load killed midway dropped, if any
        return loaded


def _counter_only_tables(tables: dict[str, str]) -> frozenset[str]:
    """The tables of `tables` ("posts" -> quoted name) whose every insert trigger is the vote
    counter's (votes/triggers.py's TRIGGERS), when this role may turn triggers off for its own
    transaction (``session_replication_role``: superusers). A slice's COPY into them needs no
    trigger: the counter stands aside in it anyway, and the slice writes the counts. A table with
    any other insert trigger (one a later migration adds) keeps it firing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        if not cursor.fetchone()[0]:
            return frozenset()
        keys = {table.strip('"'): key for key, table in tables.items()}  # "votes_vote" -> "votes"
        counters = {(table, name) for table, names in TRIGGERS.items() for name in names}
        cursor.execute(
            # tgtype bit 2 (4): fires on INSERT.
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgtype & 4 <> 0 AND t.tgrelid = ANY(%s::regclass[])",
            [list(tables.values())],
        )
        others = {keys[table] for table, name in cursor.fetchall() if (table, name) not in counters}
    return frozenset(key for key in tables if key not in others)


def _move_sequences(cursor: CursorWrapper, tables: Iterable[str]) -> None:
    for table in tables:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 (names from the models)
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)",
            [table],
        )


def _max_id(cursor: CursorWrapper, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
    return cursor.fetchone()[0]


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def other_users() -> int:
    """How many users seed did not create."""
    return User.objects.exclude(email__regex=SEEDED_EMAIL, date_joined=SEEDED_JOINED).count()


def refuse_foreign_data(allowed_database: str, *, users: int) -> None:
    """Raise CommandError when the database holds users seed did not create, unless
    ``allowed_database`` is that database's name (``--allow-existing-data``), or when one of
    them has an address among user1 ... user<users>@example.com that this run would load."""
    name = connection.settings_dict["NAME"]
    if allowed_database and allowed_database != name:
        raise CommandError(
            f"--allow-existing-data={allowed_database} names another database: this one is {name}."
        )
    if allowed_database == name:
        # Only the addresses this run loads collide: user150@... is no obstacle to --users 5.
        real = User.objects.filter(email__regex=SEEDED_EMAIL).exclude(date_joined=SEEDED_JOINED)
        numbers = sorted(int(email[4:].split("@")[0]) for email in real.values_list("email", flat=True))
        if numbers and numbers[0] <= users:
            raise CommandError(
                f"user{numbers[0]}@example.com is a real account (seed did not create it), and seeding "
                f"{users} users needs the addresses user1 to user{users}@example.com: seed fewer users "
                f"(--users {numbers[0] - 1}), or a database without such accounts."
                if numbers[0] > 1
                else "user1@example.com is a real account (seed did not create it), and seeding needs its "
                "address: seed a database without such accounts."
            )
        return
    if count := other_users():
        raise CommandError(
            f"Database {name} holds {count} user(s) that seed did not create, and seeding replaces "
            f"data. To seed beside them (only seeded users are replaced), pass --allow-existing-data={name} "
            f"(make bench ARGS=--allow-existing-data={name})."
        )
