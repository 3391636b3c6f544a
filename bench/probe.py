"""The bench's look inside: the database's version, the posts to use, and the queries that one
request of each scenario runs (counted in-process with Django's test client)."""

import functools
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from posts.models import Post
from votes.models import Vote

VOTE_POSTS = 1_000


def postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def postmaster_pid() -> int | None:
    """The embedded database server's process (for its CPU time). A shared server's CPU
    would count other clients' work too, so there is none for DATABASE_URL."""
    if not settings.EMBEDDED_DATABASE:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        stat = Path(f"/proc/{backend}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def pick_posts(*, user_email: str) -> tuple[int, list[int]]:
    """A published post from the middle of the table for get-one, and posts the user has not
    voted on: the last one for counting a vote's queries, the others for the vote cycle."""
    user = User.objects.get(email=user_email)
    published = Post.objects.filter(published=True).order_by("id")
    middle = published[published.count() // 2]
    voted = Exists(Vote.objects.filter(user=user, post=OuterRef("pk")))
    free = published.exclude(owner=user).exclude(voted).values_list("id", flat=True)
    return middle.pk, list(free[: VOTE_POSTS + 1])


def clear_votes(*, user_email: str, post_ids: list[int]) -> None:
    Vote.objects.filter(user__email=user_email, post_id__in=post_ids).delete()


def newest_post() -> int:
    """The highest post id now (0 when there are none)."""
    return Post.objects.order_by("-id").values_list("id", flat=True).first() or 0


#: Seconds without a new post after which the requests a write scenario's wrk left in flight
#: are taken as answered, and at most how long to wait for that.
QUIET, PATIENCE = 1.0, 60.0


def delete_posts_after(post_id: int) -> None:
    """Delete the posts a write scenario added (ids above `post_id`), once the server has
    stopped adding any: wrk stops at its deadline with requests in flight, and the server
    answers them after it. A post created after the delete would stay the newest post of the
    data, read first by every later scenario (by every feed, when its author is the account
    everyone follows). Waits until their number has not moved for QUIET seconds (at most
    PATIENCE), deletes, and raises SystemExit if a post still appears within QUIET after. It
    counts the added posts rather than reading the newest id: a request that took its id early
    and commits late does not move the newest id."""
    added = Post.objects.filter(pk__gt=post_id)
    count, since, began = added.count(), time.monotonic(), time.monotonic()
    while time.monotonic() - since < QUIET and time.monotonic() - began < PATIENCE:
        time.sleep(QUIET / 10)
        if (now := added.count()) != count:
            count, since = now, time.monotonic()
    added.delete()
    time.sleep(QUIET)
    if late := list(added.values_list("pk", flat=True)[:5]):
        raise SystemExit(f"posts {late} were created after the write scenario's posts were deleted")


def queries(scenario: str, env: dict, token: str, password: str, spare_post: int) -> str:
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    if scenario == "vote":
        counts = [
            _count(
                functools.partial(
                    client.post, "/vote/", {"post_id": spare_post, "dir": d}, content_type="application/json"
                )
            )
            for d in (1, 0)
        ]
        return " / ".join(map(str, counts)) + " (add / remove)"
    if scenario == "create":
        newest = newest_post()
        body = {"title": "bench", "content": "a post from the bench"}
        count = _count(lambda: client.post("/posts/", body, content_type="application/json"))
        delete_posts_after(newest)
        return str(count)
    if scenario == "login":
        body = {"username": "user2@example.com", "password": password}
        return str(_count(lambda: Client(HTTP_HOST="127.0.0.1").post("/login", body)))
    if env.get("BENCH_MODE") == "post":
        return str(
            _count(lambda: client.post(env["BENCH_PATH"], env["BENCH_BODY"], content_type="application/json"))
        )
    return str(_count(lambda: client.get(env["BENCH_PATH"])))


def _count(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)
