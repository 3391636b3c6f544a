"""Many voters on one post at once: none waits for another's row lock, and every count a reader
can see is exact (votes/triggers.py: a post's vote_total plus its pending deltas)."""

import threading

import pytest
from django.db import connection, transaction

from posts.models import Post
from testing.clients import client_for
from testing.threads import run_at_once
from votes import counter, services
from votes.models import Vote, VoteDelta

pytestmark = pytest.mark.django_db(transaction=True)


def count_of(post: Post) -> int:
    return Post.objects.with_vote_count().get(pk=post.pk).vote_count


def test_a_vote_does_not_wait_for_a_transaction_holding_the_post(user, other_user, make_post):
    post = make_post()
    Vote.objects.create(user=other_user, post=post)
    held, release = threading.Event(), threading.Event()

    def hold_the_post() -> None:
        # Another voter's transaction, or an owner's edit, holding the post's row.
        try:
            with transaction.atomic():
                Post.objects.select_for_update(no_key=True).get(pk=post.pk)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_post)
    holder.start()
    try:
        assert held.wait(30)
        with transaction.atomic():
            # Before the deltas, this vote queued on the row: the lock timeout turns that into an error.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '5s'")
            services.cast_vote(user=user, post_id=post.pk)
        assert list(VoteDelta.objects.values_list("post_id", "delta")) == [(post.pk, 1)]
        assert count_of(post) == 2
        assert client_for(user).get(f"/posts/{post.pk}").json()["votes"] == 2
    finally:
        release.set()
        holder.join()
    # The next vote that gets the row folds the pending delta into vote_total.
    services.retract_vote(user=other_user, post_id=post.pk)
    assert not VoteDelta.objects.exists()
    post.refresh_from_db()
    assert post.vote_total == 1 == count_of(post)


def test_fifty_voters_and_readers_on_one_post_never_see_a_wrong_count(make_user, make_post):
    post = make_post()
    voters = [make_user() for _ in range(50)]
    readers_done = threading.Event()
    seen: list[int] = []

    def vote(index: int) -> list[int]:
        client = client_for(voters[index])
        # Vote, retract, vote again; every other voter retracts once more at the end.
        directions = (1, 0, 1, 0) if index % 2 else (1, 0, 1)
        return [client.post("/vote/", {"post_id": post.pk, "dir": d}).status_code for d in directions]

    def read() -> list[int]:
        client = client_for(voters[0])
        shown = []
        while not readers_done.is_set():
            shown.append(client.get(f"/posts/{post.pk}").json()["votes"])
            page = client.get("/posts/?sort=top&limit=5").json()
            shown.extend(item["votes"] for item in page if item["Post"]["id"] == post.pk)
        return shown

    readers = [threading.Thread(target=lambda: seen.extend(run_reader())) for _ in range(4)]

    def run_reader() -> list[int]:
        try:
            return read()
        finally:
            connection.close()

    for reader in readers:
        reader.start()
    try:
        results = run_at_once([lambda i=i: vote(i) for i in range(50)])
    finally:
        readers_done.set()
        for reader in readers:
            reader.join()
    assert all(codes and set(codes) == {201} for codes in results)
    assert seen and min(seen) >= 0 and max(seen) <= 50
    rows = Vote.objects.filter(post=post).count()
    assert rows == 25
    assert count_of(post) == rows == client_for(voters[0]).get(f"/posts/{post.pk}").json()["votes"]
    counter.fold()
    post.refresh_from_db()
    assert post.vote_total == rows == count_of(post)
    assert not VoteDelta.objects.exists()
