"""Reads whose cost grows with the table (a search the trigram index cannot serve, a deep skip,
an exact count, on the posts, a post's comments and the follows) are held to a per-user budget
(429 with Retry-After); a search the index serves holds one of the user's reads in progress
only; ordinary reads are never counted."""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from api import read_budget
from api.read_budget import is_expensive
from comments.models import Comment
from follows.models import Follow
from testing.assertions import assert_error
from testing.clients import client_for

pytestmark = pytest.mark.django_db

SEARCH_IN_PROGRESS = (
    "Another search of yours is in progress; send the next one when it has answered. Expected "
    "available in 1 second."
)
TOO_MANY = (
    "Too many expensive reads (short searches, deep skips, exact counts); use a cursor or a longer "
    "search. Expected available in {}."
)
PAUSED = "Your searches and expensive reads have taken their share of the database for now."


@pytest.mark.parametrize("search", ["a", "ab", "~", "%%%", "a b", "__", "é!", "1.2"])
def test_searches_the_index_cannot_serve_are_expensive(search):
    assert is_expensive(search=search, skip=0, exact_count=False)


@pytest.mark.parametrize("search", ["cat", "Django", "été", "C++ tips", "100%", "ab cde"])
def test_searches_the_index_serves_are_not(search):
    assert not is_expensive(search=search, skip=0, exact_count=False)


def test_deep_skips_and_exact_counts_are_expensive():
    assert not is_expensive(search="", skip=1000, exact_count=False)
    assert is_expensive(search="", skip=1001, exact_count=False)
    assert is_expensive(search="", skip=0, exact_count=True)


def test_expensive_reads_are_limited_per_user(settings, user, other_user, make_post, frozen_clock):
    settings.EXPENSIVE_READ_RATE = "3/minute"
    make_post(title="a cat")
    client, other = client_for(user), client_for(other_user)
    reads = ["/posts/?search=a", "/posts/?skip=5000", "/posts/?search=%25%25"]
    assert [client.get(path).status_code for path in reads] == [200, 200, 200]
    assert_error(
        client.get("/posts/?search=~"), 429, TOO_MANY.format("60 seconds"), headers={"Retry-After": "60"}
    )
    assert_error(
        client.get("/posts/", HTTP_PREFER="count=exact"),
        429,
        TOO_MANY.format("60 seconds"),
        headers={"Retry-After": "60"},
    )
    # Ordinary reads and normal searches are not counted; another user has a budget of their own.
    for _ in range(10):
        assert client.get("/posts/?limit=10").status_code == 200
        assert [p["Post"]["title"] for p in client.get("/posts/?search=cat").json()] == ["a cat"]
    assert other.get("/posts/?search=a").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_one_expensive_read_in_flight_per_user(settings, user, other_user, make_post):
    settings.EXPENSIVE_READ_RATE = "1000/minute"
    settings.EXPENSIVE_READ_SHARE = 100  # the read held on a lock takes a while: not timed here
    make_post(title="t")
    answers = []

    def count_exact() -> None:
        try:
            answers.append(client_for(user).get("/posts/", HTTP_PREFER="count=exact").status_code)
        finally:
            connection.close()

    with waiting_on_a_lock(count_exact):
        # It holds the user's first slot and the server's first (the cap across users).
        assert held_slots() == [(read_budget.USER_NAMESPACE, user.pk), (read_budget.TOTAL_NAMESPACE, 0)]
        # While it is in progress the same user's next expensive read is refused at once, and
        # their next search too: it needs one of the same slots (test_one_search_in_flight_per_user).
        answer = client_for(user).get("/posts/?search=~")
        assert_error(answer, 429, TOO_MANY.format("1 second"), headers={"Retry-After": "1"})
        answer = client_for(user).get("/posts/?search=dog")
        assert_error(answer, 429, SEARCH_IN_PROGRESS, headers={"Retry-After": "1"})
    assert answers == [200]
    assert client_for(user).get("/posts/?search=~").status_code == 200  # released
    assert client_for(other_user).get("/posts/?search=~").status_code == 200


def test_a_user_known_past_the_window_is_refused_before_the_database_is_asked(settings, user, frozen_clock):
    settings.EXPENSIVE_READ_RATE = "1/minute"
    client = client_for(user)
    assert client.get("/posts/?search=~").status_code == 200
    # The process learns it from the database once, then refuses by itself until the window ends.
    assert_error(
        client.get("/posts/?search=~"), 429, TOO_MANY.format("60 seconds"), headers={"Retry-After": "60"}
    )
    frozen_clock.advance(30)
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/posts/?search=~")
    assert_error(answer, 429, TOO_MANY.format("30 seconds"), headers={"Retry-After": "30"})
    assert not [
        q["sql"] for q in queries.captured_queries if "advisory" in q["sql"] or "expensiveread" in q["sql"]
    ]
    frozen_clock.advance(30)
    assert client.get("/posts/?search=~").status_code == 200  # a new window


def test_deep_skips_and_exact_counts_of_comments_and_follows_spend_the_budget(
    settings, user, other_user, make_post, frozen_clock
):
    """A post's comments, a user's followers and whom a user follows are paged as the posts are:
    a deep skip walks, and an exact count reads, every row of the thread or of the follows."""
    settings.EXPENSIVE_READ_RATE = "3/minute"
    post = make_post(title="t")
    Comment.objects.create(post=post, owner=user, content="c")
    Follow.objects.create(follower=other_user, followee=user)
    client = client_for(user)
    reads = [
        (f"/posts/{post.pk}/comments?skip=5000", {}),
        (f"/users/{user.pk}/followers", {"HTTP_PREFER": "count=exact"}),
        (f"/users/{other_user.pk}/following?skip=1001", {}),
    ]
    assert [client.get(path, **headers).status_code for path, headers in reads] == [200, 200, 200]
    for path, headers in [
        (f"/posts/{post.pk}/comments", {"HTTP_PREFER": "count=exact"}),
        (f"/users/{user.pk}/followers?skip=2000", {}),
        (f"/users/{other_user.pk}/following", {"HTTP_PREFER": "count=exact"}),
    ]:
        answer = client.get(path, **headers)
        assert_error(answer, 429, TOO_MANY.format("60 seconds"), headers={"Retry-After": "60"})
    # Their ordinary pages are not counted.
    for _ in range(5):
        assert client.get(f"/posts/{post.pk}/comments?skip=1000").status_code == 200
        assert client.get(f"/users/{user.pk}/followers").status_code == 200
        assert client.get(f"/users/{other_user.pk}/following").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_one_search_in_flight_per_user(settings, user, other_user, make_post):
    """A search the index serves spends nothing of the window, but holds one of the user's reads
    in progress: two common words that never meet read both words' lists of titles. Its own
    statement takes the slot, then reads the time the user has paid for: held there on a lock
    of that table, the search is in progress with its slot taken."""
    settings.EXPENSIVE_READ_RATE = "1/minute"
    settings.EXPENSIVE_READ_SHARE = 25  # so that the slot's statement reads the user's time
    make_post(title="a cat")
    answers = []

    def search() -> None:
        try:
            answers.append(client_for(user).get("/posts/?search=cat").status_code)
        finally:
            connection.close()

    with waiting_on_a_lock(search, table="api_expensivereadwindow"):
        # While it is in progress the same user's next search is refused at once.
        answer = client_for(user).get("/posts/?search=dog")
        assert_error(answer, 429, SEARCH_IN_PROGRESS, headers={"Retry-After": "1"})
        # The slot it holds is the user's first, the one an expensive read of theirs takes too.
        assert held_slots() == [(read_budget.USER_NAMESPACE, user.pk)]
    assert answers == [200]
    assert held_slots() == []
    # The wait on the lock was charged to the user's time: paid up here, to read on.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE api_expensivereadwindow SET busy_until = now() WHERE user_id = %s", [user.pk])
    read_budget.forget()
    # Released, and none of them spent the window: the one expensive read of the minute is left.
    assert client_for(user).get("/posts/?search=dog").status_code == 200
    assert client_for(user).get("/posts/?search=~").status_code == 200
    assert client_for(other_user).get("/posts/?search=cat").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_search_is_refused_by_the_time_the_database_holds(settings, user, make_post):
    """A user paid far ahead in the database (by another worker: this process has not seen it)
    is refused by the search's own statement, with the time left as Retry-After."""
    settings.EXPENSIVE_READ_SHARE = 25
    make_post(title="a cat")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO api_expensivereadwindow (user_id, slot, window_start, reads, busy_until) "
            "VALUES (%s, 0, 0, 0, now() + interval '1 hour')",
            [user.pk],
        )
    read_budget.forget()
    answer = client_for(user).get("/posts/?search=cat")
    wait = answer.headers["Retry-After"]
    assert_error(answer, 429, f"{PAUSED} Expected available in {wait} seconds.")
    assert 3590 <= int(wait) <= 3600
    assert held_slots() == []
    # Now known to this process: refused again before the database is asked.
    with CaptureQueriesContext(connection) as queries:
        assert client_for(user).get("/posts/?search=cat").status_code == 429
    assert [query["sql"] for query in queries.captured_queries if "posts_post" in query["sql"]] == []


@pytest.mark.django_db(transaction=True)
def test_the_time_charged_to_each_row_of_the_users_is_one_budget(settings, user, make_post):
    """A search of the primary charges its own row, an expensive read its slot's: what the rows
    have paid for ahead is summed, so alternating the two kinds does not double the share."""
    settings.EXPENSIVE_READ_SHARE = 25
    make_post(title="a cat")
    with connection.cursor() as cursor:  # each row 0.8 s ahead: under BURST alone, over it summed
        cursor.execute(
            "INSERT INTO api_expensivereadwindow (user_id, slot, window_start, reads, busy_until) "
            "VALUES (%s, 0, 0, 0, now() + interval '0.8 s'), (%s, %s, 0, 0, now() + interval '0.8 s')",
            [user.pk, user.pk, read_budget.SEARCH_ROW],
        )
    for path in ("/posts/?search=cat", "/posts/?search=~"):
        read_budget.forget()
        answer = client_for(user).get(path)
        assert_error(answer, 429, f"{PAUSED} Expected available in 1 second.")


def held_slots() -> list[tuple[int, int]]:
    """The advisory locks of reads in progress (namespace, key) that any session holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT classid::bigint::int, objid::bigint::int FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 2 AND granted ORDER BY 1, 2"
        )
        return [tuple(row) for row in cursor.fetchall()]


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)  # SET LOCAL lasts until the outermost transaction ends
def test_an_expensive_read_runs_on_one_core(user):
    """The cap across users counts reads, not cores: PostgreSQL's parallel workers would let one
    sequential scan take every core. The read runs without them; after it the server's setting
    is back."""
    default = setting("max_parallel_workers_per_gather")
    with read_budget.spend(user.pk):
        assert setting("max_parallel_workers_per_gather") == "0"
    assert setting("max_parallel_workers_per_gather") == default != "0"


@pytest.mark.django_db(transaction=True)
def test_an_expensive_read_runs_for_at_most_its_own_timeout(settings, user, make_post):
    """EXPENSIVE_READ_TIMEOUT (1 s) bounds an expensive read's statements, whatever the
    connection's own statement_timeout (DATABASE_STATEMENT_TIMEOUT, 3 s by default): kept
    waiting, it is cancelled after a second. After it the connection's own is back."""
    settings.EXPENSIVE_READ_SHARE = 100
    make_post(title="t")
    ordinary = setting("statement_timeout")
    with read_budget.spend(user.pk):
        assert setting("statement_timeout") == "1s"
    assert setting("statement_timeout") == ordinary != "1s"
    answers = []

    def count_exact() -> None:
        started = time.monotonic()
        try:
            answers.append(client_for(user).get("/posts/", HTTP_PREFER="count=exact").status_code)
        except OperationalError as error:  # the test client raises what the view raised
            answers.append(str(error).strip())
        finally:
            answers.append(time.monotonic() - started)
            connection.close()

    with waiting_on_a_lock(count_exact):
        time.sleep(2)
    assert answers[0] == "canceling statement due to statement timeout"
    assert answers[1] < 1.9  # cancelled at 1 s, long before the lock was released


def seconds_paid_ahead(user) -> float:
    """How far ahead of now the user's reads have paid for their time (0: not at all)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(extract(epoch FROM max(busy_until) - clock_timestamp()), 0)::float "
            "FROM api_expensivereadwindow WHERE user_id = %s",
            [user.pk],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "headers"), [("/posts/?search=cat", {}), ("/posts/", {"HTTP_PREFER": "count=exact"})]
)
def test_a_users_searches_and_expensive_reads_take_at_most_their_share_of_the_time(
    settings, user, other_user, make_post, path, headers
):
    """A read that took t seconds charges t x 100 / EXPENSIVE_READ_SHARE to the user's time;
    past a second's worth ahead of now, their next search or expensive read is 429 with
    Retry-After until the time has passed. Ordinary reads and other users are not held."""
    settings.EXPENSIVE_READ_RATE = "1000/minute"
    settings.EXPENSIVE_READ_SHARE = 25
    make_post(title="a cat")
    answers = []

    def read() -> None:
        try:
            answers.append(client_for(user).get(path, **headers).status_code)
        finally:
            connection.close()

    with waiting_on_a_lock(read):
        time.sleep(0.6)  # the read takes at least this: charged at least 2.4 s
    assert answers == [200]
    ahead = seconds_paid_ahead(user)
    assert 1.5 < ahead < 30
    client = client_for(user)
    for refused in ["/posts/?search=dog", "/posts/?search=~", "/posts/?skip=5000"]:
        answer = client.get(refused)
        wait = answer.headers["Retry-After"]
        assert_error(answer, 429, f"{PAUSED} Expected available in {wait} second{'s' * (wait != '1')}.")
        assert 1 <= int(wait) <= ahead
    assert client.get("/posts/?limit=10").status_code == 200
    assert client_for(other_user).get(path, **headers).status_code == 200
    # The database holds the time, not the process: once it has passed, the reads are allowed.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE api_expensivereadwindow SET busy_until = now() WHERE user_id = %s", [user.pk])
    read_budget.forget()
    assert client.get("/posts/?search=dog").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_failed_search_is_charged_too(settings, user, make_post):
    """A search cancelled while it ran (here by pg_cancel_backend; in service by the statement
    timeout) rolls its transaction back, and its time is still charged."""
    settings.EXPENSIVE_READ_SHARE = 25
    make_post(title="a cat")
    answers = []

    def search() -> None:
        try:
            answers.append(client_for(user).get("/posts/?search=cat").status_code)
        except OperationalError as error:  # the test client raises what the view raised
            answers.append(str(error))
        finally:
            connection.close()

    with waiting_on_a_lock(search):
        time.sleep(0.3)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            )
    assert answers == ["canceling statement due to user request"]
    assert seconds_paid_ahead(user) > 1


def test_a_share_of_100_times_nothing(settings, user, make_post):
    settings.EXPENSIVE_READ_SHARE = 100
    make_post(title="a cat")
    with connection.cursor() as cursor:  # paid far ahead, as with a smaller share before
        cursor.execute(
            "INSERT INTO api_expensivereadwindow (user_id, slot, window_start, reads, busy_until) "
            "VALUES (%s, 0, 0, 0, now() + interval '1 hour')",
            [user.pk],
        )
    assert client_for(user).get("/posts/?search=cat").status_code == 200


@contextlib.contextmanager
def waiting_on_a_lock(read: Callable[[], None], table: str = "posts_post") -> Iterator[None]:
    """Run `read` in a thread while the test holds LOCK TABLE `table`, and enter the block once
    its statement waits on that lock (so the read is in progress, holding its slot); the lock is
    released and the thread joined on leaving. AssertionError if the read never waits."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=read)
        thread.start()
        for _ in range(200):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the read never waited on the lock")
        yield
    thread.join(30)
