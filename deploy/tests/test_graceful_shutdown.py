"""SIGTERM (what `docker stop` and orchestrators send) while clients are writing: every write
a client was told succeeded is in the database afterwards, and requests in flight finish."""

import threading
import time
from dataclasses import dataclass, field

import pytest

from accounts.tokens import AccessToken
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 4


@dataclass
class Tally:
    posts: list[tuple[int, int, str]] = field(default_factory=list)  # (post id, owner id, title)
    votes: list[tuple[int, int]] = field(default_factory=list)  # (user id, post id)
    answered_at: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def write_until_refused(server, user_id: int, token: str, tally: Tally, stop: threading.Event) -> None:
    """Create a post, vote on it, repeat; stop when the server no longer takes connections."""
    n = 0
    while not stop.is_set():
        n += 1
        title = f"user {user_id} post {n}"
        try:
            created = server.request(
                "POST", "/posts/", json_body={"title": title, "content": "x"}, token=token
            )
            with tally.lock:
                tally.answered_at.append(time.monotonic())
                if created.status != 201:
                    tally.unexpected.append(f"post: {created.status} {created.body[:200]!r}")
                    return
                post_id = created.json()["id"]
                tally.posts.append((post_id, user_id, title))
            voted = server.request("POST", "/vote/", json_body={"post_id": post_id, "dir": 1}, token=token)
            with tally.lock:
                tally.answered_at.append(time.monotonic())
                if voted.status != 201:
                    tally.unexpected.append(f"vote: {voted.status} {voted.body[:200]!r}")
                    return
                tally.votes.append((user_id, post_id))
        except OSError:
            # Refused or reset: the request was never acknowledged, so nothing is claimed.
            return


def test_sigterm_under_write_load_loses_no_acknowledged_write(gunicorn, make_user):
    users = [make_user() for _ in range(CLIENTS)]
    server = gunicorn(WEB_CONCURRENCY="2")
    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(
            target=write_until_refused, args=(server, u.pk, str(AccessToken.for_user(u)), tally, stop)
        )
        for u in users
    ]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(tally.answered_at) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(tally.answered_at) >= 40, f"too few writes before the signal:\n{server.log()}"

        sigterm_at = time.monotonic()
        exit_code = server.terminate()
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)

    assert exit_code == 0, server.log()
    assert tally.unexpected == []
    # Workers were busy when the signal came; what they had in hand was still answered.
    assert any(at > sigterm_at for at in tally.answered_at)
    assert "Handling signal: term" in server.log()

    stored_posts = {(p.pk, p.owner_id, p.title) for p in Post.objects.all()}
    assert set(tally.posts) <= stored_posts
    stored_votes = set(Vote.objects.values_list("user_id", "post_id"))
    assert set(tally.votes) <= stored_votes
    assert len(tally.posts) >= 20
