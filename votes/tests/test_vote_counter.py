"""The vote count the API shows is kept by database triggers (a post's vote_total plus its
pending deltas): it must equal the number of votes after any write, by any writer, including
concurrent ones; folding the deltas leaves it unchanged."""

import threading

import pytest
from django.db import connection, transaction
from django.db.models import Count

from posts.models import Post
from testing.clients import client_for
from testing.threads import run_at_once
from votes import counter
from votes.models import Vote, VoteDelta

pytestmark = pytest.mark.django_db(transaction=True)


def assert_counts_exact() -> None:
    """Each post's count as read equals its votes, before and after folding its deltas; after,
    vote_total alone (the sort=top rank) does."""
    counted = dict(Post.objects.annotate(n=Count("votes")).values_list("id", "n"))
    assert {post.pk: post.vote_count for post in Post.objects.with_vote_count()} == counted
    counter.fold()
    assert {post.pk: post.vote_count for post in Post.objects.with_vote_count()} == counted
    assert dict(Post.objects.values_list("id", "vote_total")) == counted
    assert not VoteDelta.objects.exists()


def count_of(post: Post) -> int:
    """The post's count as a reader sees it."""
    return Post.objects.with_vote_count().get(pk=post.pk).vote_count


def shown_votes(client, post: Post) -> int:
    return client.get(f"/posts/{post.pk}").json()["votes"]


def test_concurrent_adds_and_removes_are_all_counted(make_user, make_post):
    post = make_post()
    voters = [make_user() for _ in range(24)]
    for voter in voters[:12]:
        Vote.objects.create(user=voter, post=post)
    # Half remove their vote while the other half add theirs, all at once.
    clients = [client_for(v) for v in voters]
    calls = [
        lambda c=c, d=int(i >= 12): c.post("/vote/", {"post_id": post.pk, "dir": d})
        for i, c in enumerate(clients)
    ]
    responses = run_at_once(calls)
    assert [r.status_code for r in responses] == [201] * 24
    assert count_of(post) == 12 == Vote.objects.filter(post=post).count()
    assert shown_votes(client_for(voters[0]), post) == 12
    assert_counts_exact()


def test_list_shows_the_stored_count(auth_client, make_user, make_post):
    make_post(title="quiet")
    popular = make_post(title="popular")
    for _ in range(3):
        Vote.objects.create(user=make_user(), post=popular)
    by_title = {item["Post"]["title"]: item["votes"] for item in auth_client.get("/posts/").json()}
    assert by_title == {"quiet": 0, "popular": 3}


def test_deleting_a_post_leaves_other_counts_exact(auth_client, user, other_user, make_post):
    doomed, kept = make_post(), make_post()
    for post in (doomed, kept):
        Vote.objects.create(user=user, post=post)
        Vote.objects.create(user=other_user, post=post)
    assert auth_client.delete(f"/posts/{doomed.pk}").status_code == 204
    kept.refresh_from_db()
    assert kept.vote_total == 2
    assert_counts_exact()


def test_deleting_a_user_removes_their_votes_from_counts(user, other_user, make_user, make_post):
    post = make_post(owner=other_user)
    leaving = make_user()
    Vote.objects.create(user=leaving, post=post)
    Vote.objects.create(user=user, post=post)
    leaving.delete()
    post.refresh_from_db()
    assert post.vote_total == 1
    assert_counts_exact()


def test_admin_style_edits_keep_counts_exact(user, other_user, make_post):
    first, second = make_post(), make_post()
    vote = Vote.objects.create(user=user, post=first)
    Vote.objects.create(user=other_user, post=first)
    # The admin changing a vote's post, saving the whole row.
    vote.post = second
    vote.save()
    assert_counts_exact()
    # Saving the vote again unchanged, and a bulk update that moves nothing.
    vote.save()
    Vote.objects.filter(pk=vote.pk).update(post=second)
    assert_counts_exact()
    # A bulk delete (the admin's "delete selected" action).
    Vote.objects.filter(post=first).delete()
    assert_counts_exact()


def test_a_stale_count_saved_with_a_post_does_not_stick(auth_client, user, other_user, make_post):
    post = make_post()
    stale = Post.objects.get(pk=post.pk)  # loaded before the vote, as by an open admin form
    Vote.objects.create(user=other_user, post=post)
    stale.title = "edited"
    stale.save()  # writes every column, vote_total=0 included
    assert auth_client.put(f"/posts/{post.pk}", {"title": "again", "content": "c"}).status_code == 200
    Post.objects.filter(pk=post.pk).update(vote_total=999)
    Post.objects.create(owner=user, title="t", content="c", vote_total=5)
    assert_counts_exact()
    assert shown_votes(auth_client, post) == 1


def test_votes_racing_post_edits_are_all_counted(user, make_user, make_post):
    post = make_post()
    voters = [make_user() for _ in range(10)]
    owner = client_for(user)
    clients = [client_for(v) for v in voters]
    calls = [lambda c=c: c.post("/vote/", {"post_id": post.pk, "dir": 1}) for c in clients]
    calls += [lambda i=i: owner.patch(f"/posts/{post.pk}", {"title": f"edit {i}"}) for i in range(10)]
    responses = run_at_once(calls)
    assert {r.status_code for r in responses} == {200, 201}
    assert count_of(post) == 10
    assert_counts_exact()


def test_votes_on_a_post_deleted_at_the_same_time_leave_no_trace(user, make_user, make_post):
    post, other = make_post(), make_post()
    voters = [make_user() for _ in range(10)]
    clients = [client_for(v) for v in voters]
    calls = [
        lambda c=c, p=p: c.post("/vote/", {"post_id": p.pk, "dir": 1}) for c in clients for p in (post, other)
    ]
    calls.append(lambda: client_for(user).delete(f"/posts/{post.pk}"))
    responses = run_at_once(calls)
    assert {r.status_code for r in responses} <= {201, 204, 404}
    assert not Post.objects.filter(pk=post.pk).exists()
    assert count_of(other) == 10
    assert_counts_exact()


def test_a_rolled_back_vote_is_not_counted(user, make_post):
    post = make_post()
    with pytest.raises(RuntimeError), transaction.atomic():
        Vote.objects.create(user=user, post=post)
        raise RuntimeError
    post.refresh_from_db()
    assert post.vote_total == 0


def test_truncating_votes_zeroes_counts(user, make_post):
    post = make_post()
    Vote.objects.create(user=user, post=post)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE votes_vote")
    post.refresh_from_db()
    assert post.vote_total == 0


def test_counts_survive_many_threads_voting_on_many_posts(make_user, make_post):
    posts = [make_post() for _ in range(3)]
    voters = [make_user() for _ in range(8)]
    barrier = threading.Barrier(len(voters))
    statuses: list[int] = []

    def vote_all(voter):
        client = client_for(voter)
        barrier.wait()
        try:
            for direction in (1, 0, 1):
                for post in posts:
                    statuses.append(client.post("/vote/", {"post_id": post.pk, "dir": direction}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=vote_all, args=(v,)) for v in voters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * (8 * 3 * 3)
    assert [count_of(p) for p in posts] == [8, 8, 8]
    assert_counts_exact()
