"""`manage.py seed`: demo and benchmark data, loaded with COPY.

Users are user1@example.com ... userU@example.com, all with one password, and all joined at
SEEDED_JOINED (no signup can give that instant): that is how a later run tells them from real
accounts of the same name. The data depends only on the arguments (a fixed random seed, fixed
timestamps), and a new run replaces what an earlier run loaded: when the database holds seeded
users only, by TRUNCATE (ids restart at 1, so the same arguments give the same ids too).

A database that holds users seed did not create is refused, unless
``--allow-existing-data=<database name>`` names it; then only the seeded users, their posts and
every vote touching them are replaced, and everything else stays as it was.
"""

import math
import random
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

from accounts.models import User
from posts.models import Post
from votes import counter
from votes.models import Vote

SEEDED_EMAIL = r"^user[0-9]+@example\.com$"
SEEDED_JOINED = "2020-12-01T00:00:00Z"
# A seeded user: the name pattern and the instant, both; %s twice, (SEEDED_EMAIL, SEEDED_JOINED).
SEEDED_USER = "email ~ %s AND date_joined = %s"
BATCH = 50_000
# Posts are spread evenly over these five years, newest last.
FIRST_POST = datetime(2021, 1, 1, tzinfo=UTC).timestamp()
LAST_POST = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
ADJECTIVES = ("quick", "lazy", "curious", "practical", "modern", "gentle", "bold", "simple", "deep", "small")
NOUNS = ("guide", "notes", "tips", "story", "question", "review", "idea", "trick", "lesson", "thoughts")
TOPICS = ("Python", "PostgreSQL", "FastAPI", "testing", "Docker", "SQL", "caching", "APIs", "Linux")


class Command(BaseCommand):
    help = (
        "Replace the seeded users, posts and votes with a fresh, repeatable set. Meant for a "
        "development or benchmark database: while it loads, other sessions' votes wait for it "
        "(the recount locks the votes table against writers), and on a database holding only "
        "seeded users it empties the tables with TRUNCATE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=100)
        parser.add_argument("--posts", type=int, default=1_000)
        parser.add_argument("--votes", type=int, default=5_000, help="about this many distinct votes")
        parser.add_argument("--password", default="password123")
        parser.add_argument(
            "--allow-existing-data",
            metavar="DATABASE_NAME",
            default="",
            help="seed a database that also holds other users (named, so it cannot be the wrong one)",
        )

    def handle(self, *args: Any, users: int, posts: int, votes: int, password: str, **options: Any) -> None:
        if users < 1 or posts < 0 or votes < 0:
            raise CommandError("--users must be at least 1; --posts and --votes at least 0.")
        refuse_foreign_data(options["allow_existing_data"], users=users)
        password_hash = make_password(password)  # hashing is slow on purpose: once, for everyone
        tables: dict[type[Model], str] = {
            model: connection.ops.quote_name(model._meta.db_table) for model in (User, Post, Vote)
        }
        # Bulk loading: the vote counter stands aside in this transaction only (votes/counter.py);
        # the loader writes each post's count itself.
        with transaction.atomic(), counter.suspended(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            self._remove_seeded(cursor, tables)
            user_base, post_base = (self._max_id(cursor, tables[model]) for model in (User, Post))
            loader = _Loader(users, posts, votes, user_base, post_base)
            loaded_votes = loader.load(cursor, password_hash, tables)
            for table in tables.values():
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 (names from the models)
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)",
                    [table],
                )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables.values())}")
        self.stdout.write(f"Seeded {users} users, {posts} posts, {loaded_votes} votes.")

    def _remove_seeded(self, cursor: CursorWrapper, tables: dict[type[Model], str]) -> None:
        """Remove what an earlier run loaded; call inside counter.suspended()."""
        users, posts, votes = tables[User], tables[Post], tables[Vote]
        if not other_users():
            # Only seeded data here: the fast way, and the same ids on every run. TRUNCATE refuses
            # a table with foreign-key checks still queued for commit: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {votes}, {posts}, {users} RESTART IDENTITY CASCADE")
            return
        seeded = f"SELECT id FROM {users} WHERE {SEEDED_USER}"  # noqa: S608 (constants only)
        cursor.execute(
            f"DELETE FROM {votes} WHERE user_id IN ({seeded}) OR post_id IN "  # noqa: S608
            f"(SELECT id FROM {posts} WHERE owner_id IN ({seeded}))",
            [SEEDED_EMAIL, SEEDED_JOINED] * 2,
        )
        cursor.execute(f"DELETE FROM {posts} WHERE owner_id IN ({seeded})", [SEEDED_EMAIL, SEEDED_JOINED])  # noqa: S608
        # The remaining posts may have lost votes of seeded users while the counter stood aside.
        counter.recount()
        # Through the ORM: it also removes group memberships and admin log entries.
        User.objects.filter(email__regex=SEEDED_EMAIL, date_joined=SEEDED_JOINED).delete()

    @staticmethod
    def _max_id(cursor: CursorWrapper, table: str) -> int:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


class _Loader:
    """Generates the rows from one seeded random stream and streams them through COPY."""

    def __init__(self, users: int, posts: int, votes: int, user_base: int, post_base: int) -> None:
        self.users, self.posts, self.votes = users, posts, votes
        self.user_base, self.post_base = user_base, post_base
        self.rng = random.Random(f"seed:{users}:{posts}:{votes}")  # noqa: S311 (repeatable on purpose)
        self.post_times = array("d")
        self.vote_counts = array("l")

    def load(self, cursor: CursorWrapper, password_hash: str, tables: dict[type[Model], str]) -> int:
        """COPY the users, posts (with their vote_total) and votes; return the votes loaded."""
        self._copy(
            cursor,
            f"{tables[User]} (id, password, is_superuser, is_staff, is_active, email, date_joined)",
            (
                f"{self.user_base + n}\t{password_hash}\tf\tf\tt\tuser{n}@example.com\t{SEEDED_JOINED}\n"
                for n in range(1, self.users + 1)
            ),
        )
        columns = "id, title, content, published, created_at, owner_id, vote_total"
        self._copy(cursor, f"{tables[Post]} ({columns})", self._post_rows())
        self._copy(cursor, f"{tables[Vote]} (user_id, post_id, created_at)", self._vote_rows())
        return sum(self.vote_counts)

    def _post_rows(self) -> Iterator[str]:
        rng, users = self.rng, self.users
        step = (LAST_POST - FIRST_POST) / max(self.posts, 1)
        # The number of votes per post is geometric (a few posts get many): its mean gives
        # about the requested total.
        per_post = self.votes / self.posts if self.posts else 0
        scale = 1 / math.log1p(1 / per_post) if per_post else 0
        for i in range(self.posts):
            post_id = self.post_base + i + 1
            owner = rng.randrange(users) + 1
            topic = "Django" if rng.random() < 0.1 else rng.choice(TOPICS)
            title = f"{rng.choice(ADJECTIVES).title()} {topic} {rng.choice(NOUNS)} #{i + 1}"
            content = f"Seeded post {i + 1} by user{owner}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}."
            published = "f" if rng.random() < 0.05 else "t"
            created = FIRST_POST + i * step + rng.random() * step
            count = min(int(rng.expovariate(1 / scale)), users) if scale else 0
            self.post_times.append(created)
            self.vote_counts.append(count)
            yield f"{post_id}\t{title}\t{content}\t{published}\t{_iso(created)}\t{self.user_base + owner}\t{count}\n"

    def _vote_rows(self) -> Iterator[str]:
        rng, user_ids = self.rng, range(self.user_base + 1, self.user_base + self.users + 1)
        for i, count in enumerate(self.vote_counts):
            if not count:
                continue
            post_id, voted = self.post_base + i + 1, _iso(self.post_times[i] + 3600)
            for user_id in rng.sample(user_ids, count):
                yield f"{user_id}\t{post_id}\t{voted}\n"

    @staticmethod
    def _copy(cursor: CursorWrapper, target: str, rows: Iterator[str]) -> None:
        with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
            batch: list[str] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    copy.write("".join(batch))
                    batch.clear()
            if batch:
                copy.write("".join(batch))


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


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
