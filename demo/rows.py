"""The rows `manage.py seed` loads, made in slices that separate processes make and COPY apart.

A slice is a unit of work: ``("users", k)``, ``("posts", k)`` (the k-th run of posts and every
vote on them) or ``("follows", k)`` (everyone the k-th run of users follows). Each slice draws
from random streams of its own, seeded by the arguments, the table and k, so its rows depend on
nothing else: not on the number of processes, nor on the order the slices run in. Slices are a
fixed share of the rows (about ``SLICES`` per table, at least ``MIN_SLICE`` rows each).

Votes and follows get explicit ids, so that they too repeat: the id of a slice's first row is
the number of rows of the slices before it, known beforehand from ``dependent_rows()``, which
draws only the per-post vote counts and per-user follow counts (streams of their own, cheap).

This module imports no Django (a loader process imports only it and psycopg).
"""

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SLICES = 64
MIN_SLICE = 500
CHUNK = 1 << 20  # characters of COPY text sent per write

SEEDED_JOINED = "2020-12-01T00:00:00Z"
# Posts are spread evenly over these five years, newest last (UTC, microseconds).
FIRST_POST_US = 1_609_459_200_000_000  # 2021-01-01
LAST_POST_US = 1_767_225_600_000_000  # 2026-01-01
VOTED_AFTER_US = 3_600_000_000  # each vote an hour after its post
FIRST_FOLLOW_S = 1_735_689_600  # 2025-01-01; follows are spread over the next 30,000,000 s
FOLLOW_SPAN_S = 30_000_000
ADJECTIVES = ("quick", "lazy", "curious", "practical", "modern", "gentle", "bold", "simple", "deep", "small")
NOUNS = ("guide", "notes", "tips", "story", "question", "review", "idea", "trick", "lesson", "thoughts")
TOPICS = ("Python", "PostgreSQL", "FastAPI", "testing", "Docker", "SQL", "caching", "APIs", "Linux")

#: The social graph (``--follows``): user1 is the celebrity, followed by every other user;
#: user2, user3 and user4 follow exactly these many users (at most everyone else); everyone
#: else follows ``10 * Pareto(1.5)`` users, at most ``MOST_FOLLOWED`` (and everyone else).
CELEBRITY = 1
READERS = {2: 10, 3: 1_000, 4: 10_000}
MOST_FOLLOWED = 5_000


@dataclass(frozen=True)
class Plan:
    """What to load: the counts asked for, and where the rows go.

    ``tables`` maps "users", "posts", "votes", "follows" to quoted table names. Seeded user n
    gets id ``user_base + n`` and post i (from 1) id ``post_base + i``; votes and follows carry
    their ids when ``ids`` is true, else the table's sequence gives them.
    """

    users: int
    posts: int
    votes: int
    follows: bool
    password_hash: str
    tables: dict[str, str] = field(hash=False)
    user_base: int = 0
    post_base: int = 0
    ids: bool = True
    #: Tables ("posts", "votes", ...) whose COPY runs with ``session_replication_role = replica``
    #: (no trigger fires in it): seed names those whose only insert triggers are the vote
    #: counter's, which the slice stands in for by writing the counts itself.
    without_triggers: frozenset[str] = frozenset()

    def key(self, table: str, slice_number: int) -> str:
        """The seed of one slice's random stream."""
        if table.startswith("follow"):  # the graph depends on the users only
            return f"seed:{self.users}:{table}:{slice_number}"
        return f"seed:{self.users}:{self.posts}:{self.votes}:{table}:{slice_number}"

    def slices(self, table: str) -> list[range]:
        """The rows of each slice of `table` ("users", "posts", "follows": by follower), 1-based."""
        total = self.posts if table == "posts" else self.users
        if table == "follows" and not self.follows:
            return []
        size = max(MIN_SLICE, math.ceil(total / SLICES))
        return [range(start, min(start + size, total + 1)) for start in range(1, total + 1, size)]

    def units(self) -> list[tuple[str, int]]:
        """Every slice, users first."""
        return [(table, k) for table in ("users", "posts", "follows") for k in range(len(self.slices(table)))]


def dependent_rows(plan: Plan, unit: tuple[str, int]) -> int:
    """The votes of a posts slice, the follows of a follows slice (0 for users)."""
    table, k = unit
    if table == "posts":
        return sum(vote_counts(plan, k))
    if table == "follows":
        return sum(follow_counts(plan, k))
    return 0


def last_ids(plan: Plan) -> dict[str, int]:
    """The highest id a load of `plan` with ``ids`` (the fast load, after TRUNCATE ... RESTART
    IDENTITY) gives in each table: {"users", "posts", "votes", "follows": id}, ids running from
    1 with no gap, so any row with a higher id was added after the load. Draws the per-post vote
    counts and per-user follow counts again (about a second per million posts)."""
    dependent = {"posts": 0, "follows": 0}
    for unit in plan.units():
        if unit[0] in dependent:
            dependent[unit[0]] += dependent_rows(plan, unit)
    return {
        "users": plan.users,
        "posts": plan.posts,
        "votes": dependent["posts"],
        "follows": dependent["follows"],
    }


def vote_counts(plan: Plan, k: int) -> list[int]:
    """How many votes each post of posts slice k gets: geometric (a few posts get many), its
    mean giving about ``plan.votes`` in all, at most one per user."""
    posts = plan.slices("posts")[k]
    per_post = plan.votes / plan.posts if plan.posts else 0
    if not per_post:
        return [0] * len(posts)
    rate = math.log1p(1 / per_post)  # expovariate(rate), floored, is geometric with this mean
    rng = random.Random(plan.key("vote-counts", k))  # noqa: S311 (repeatable on purpose)
    return [min(int(rng.expovariate(rate)), plan.users) for _ in posts]


def follow_counts(plan: Plan, k: int) -> list[int]:
    """How many users each user of follows slice k follows (module's constants)."""
    rng = random.Random(plan.key("follow-counts", k))  # noqa: S311
    counts = []
    for n in plan.slices("follows")[k]:
        wanted = min(int(10 * rng.paretovariate(1.5)), MOST_FOLLOWED)
        counts.append(min(READERS.get(n, wanted), plan.users - 1))
    return counts


def copies(plan: Plan, unit: tuple[str, int], first_id: int) -> Iterator[tuple[str, str, Iterator[str]]]:
    """The COPY statements of one slice, each with its table ("posts", ...) and its rows as text
    chunks; `first_id` is the id of the slice's first vote or follow (when ``plan.ids``)."""
    table, k = unit
    t = plan.tables
    if table == "users":
        columns = "id, password, is_superuser, is_staff, is_active, email, date_joined"
        yield "users", f"COPY {t['users']} ({columns}) FROM STDIN", _user_rows(plan, k)
    elif table == "posts":
        counts = vote_counts(plan, k)
        voted: list[str] = []  # each post's vote time
        columns = "id, title, content, published, created_at, owner_id, vote_total"
        yield "posts", f"COPY {t['posts']} ({columns}) FROM STDIN", _post_rows(plan, k, counts, voted)
        columns = "id, user_id, post_id, created_at" if plan.ids else "user_id, post_id, created_at"
        votes = _vote_rows(plan, k, counts, voted, first_id)
        yield "votes", f"COPY {t['votes']} ({columns}) FROM STDIN", votes
    else:
        columns = "follower_id, followee_id, created_at"
        columns = f"id, {columns}" if plan.ids else columns
        yield "follows", f"COPY {t['follows']} ({columns}) FROM STDIN", _follow_rows(plan, k, first_id)


def load(cursor: Any, plan: Plan, unit: tuple[str, int], first_id: int) -> None:
    """COPY one slice over `cursor` (a psycopg cursor), in the caller's transaction."""
    for table, statement, chunks in copies(plan, unit, first_id):
        quiet = table in plan.without_triggers
        if quiet:  # a per-row trigger call would triple a vote's cost
            cursor.execute("SET LOCAL session_replication_role = replica")
        with cursor.copy(statement) as copy:
            for chunk in chunks:
                copy.write(chunk)
        if quiet:
            cursor.execute("SET LOCAL session_replication_role = origin")


def _chunked(rows: Iterator[str]) -> Iterator[str]:
    batch: list[str] = []
    size = 0
    for row in rows:
        batch.append(row)
        size += len(row)
        if size >= CHUNK:
            yield "".join(batch)
            batch.clear()
            size = 0
    if batch:
        yield "".join(batch)


def _user_rows(plan: Plan, k: int) -> Iterator[str]:
    head = f"\t{plan.password_hash}\tf\tf\tt\tuser"
    tail = f"@example.com\t{SEEDED_JOINED}\n"
    base = plan.user_base
    return _chunked(f"{base + n}{head}{n}{tail}" for n in plan.slices("users")[k])


def _post_rows(plan: Plan, k: int, counts: list[int], voted: list[str]) -> Iterator[str]:
    rng = random.Random(plan.key("posts", k))  # noqa: S311
    clock = _Clock()
    step = (LAST_POST_US - FIRST_POST_US) / max(plan.posts, 1)
    users, user_base, post_base = plan.users, plan.user_base, plan.post_base

    def rows() -> Iterator[str]:
        for n, count in zip(plan.slices("posts")[k], counts, strict=True):
            owner = rng.randrange(users) + 1
            # One draw for the words: 10 * 10 * 10 * 10 * 90 * 20 < 2**32 choices.
            r = rng.getrandbits(32)
            r, adjective = divmod(r, 10)
            r, noun = divmod(r, 10)
            r, adjective2 = divmod(r, 10)
            r, noun2 = divmod(r, 10)
            r, topic = divmod(r, 90)  # one in ten: Django
            draft = r % 20 == 0  # one in twenty
            subject = "Django" if topic < 9 else TOPICS[topic % 9]
            title = f"{ADJECTIVES[adjective].title()} {subject} {NOUNS[noun]} #{n}"
            content = f"Seeded post {n} by user{owner}: {ADJECTIVES[adjective2]} {NOUNS[noun2]}."
            created = FIRST_POST_US + int((n - 1 + rng.random()) * step)
            if count:
                voted.append(clock.text(created + VOTED_AFTER_US))
            else:
                voted.append("")
            yield (
                f"{post_base + n}\t{title}\t{content}\t{'f' if draft else 't'}\t{clock.text(created)}\t"
                f"{user_base + owner}\t{count}\n"
            )

    return _chunked(rows())


def _vote_rows(plan: Plan, k: int, counts: list[int], voted: list[str], first_id: int) -> Iterator[str]:
    rng = random.Random(plan.key("votes", k))  # noqa: S311
    voters = range(plan.user_base + 1, plan.user_base + plan.users + 1)
    first_post = plan.post_base + plan.slices("posts")[k].start

    def rows() -> Iterator[str]:
        vote_id = first_id
        for i, count in enumerate(counts):
            if not count:
                continue
            tail = f"\t{first_post + i}\t{voted[i]}\n"
            for user_id in rng.sample(voters, count):
                yield f"{vote_id}\t{user_id}{tail}" if plan.ids else f"{user_id}{tail}"
                vote_id += 1

    return _chunked(rows())


def _follow_rows(plan: Plan, k: int, first_id: int) -> Iterator[str]:
    rng = random.Random(plan.key("follows", k))  # noqa: S311
    clock = _Clock()
    users, base = plan.users, plan.user_base
    followers = plan.slices("follows")[k]

    def rows() -> Iterator[str]:
        follow_id = first_id
        for n, count in zip(followers, follow_counts(plan, k), strict=True):
            if n == CELEBRITY:
                followees = rng.sample(range(2, users + 1), count)
            elif count:
                # count - 1 distinct users of 2..users other than n (x >= n shifts past n), and the
                # celebrity: one draw, no retries, however close count is to users - 1.
                followees = [x + (x >= n) for x in rng.sample(range(2, users), count - 1)]
                followees.append(CELEBRITY)
            else:
                continue
            head = f"\t{base + n}\t"
            for followee in followees:
                when = clock.text(1_000_000 * (FIRST_FOLLOW_S + rng.randrange(FOLLOW_SPAN_S)))
                if plan.ids:
                    yield f"{follow_id}{head}{base + followee}\t{when}\n"
                    follow_id += 1
                else:
                    yield f"{base + n}\t{base + followee}\t{when}\n"

    return _chunked(rows())


_MINUTES_SECONDS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]


class _Clock:
    """Text of UTC instants for COPY, from whole microseconds since the epoch; the date and hour
    part is kept per hour (formatting a datetime per row would be most of a row's cost)."""

    def __init__(self) -> None:
        self.hours: dict[int, str] = {}

    def text(self, micros: int) -> str:
        seconds, fraction = divmod(micros, 1_000_000)
        hour, rest = divmod(seconds, 3600)
        prefix = self.hours.get(hour)
        if prefix is None:
            prefix = self.hours[hour] = time.strftime("%Y-%m-%d %H:", time.gmtime(hour * 3600))
        return f"{prefix}{_MINUTES_SECONDS[rest]}.{fraction:06d}+00"
