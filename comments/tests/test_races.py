"""Concurrent writes on real threads, each with its own database connection: the thread stays
consistent (docs/comments.md: reply_count exact under concurrent replies and deletions)."""

import pytest
from django.db.models import Count

from comments.models import Comment
from testing.clients import client_for
from testing.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def assert_consistent() -> None:
    """Every reply_count equals the number of the comment's replies, and no deleted comment
    without replies is left."""
    for comment in Comment.objects.annotate(n=Count("replies")):
        assert comment.reply_count == comment.n, (comment.pk, comment.reply_count, comment.n)
        assert not (comment.deleted and comment.n == 0), comment.pk


def test_twenty_concurrent_replies_give_reply_count_20(make_user, make_post, make_comment):
    post = make_post()
    parent = make_comment(post)
    clients = [client_for(make_user()) for _ in range(20)]
    body = {"content": "me too", "parent_id": parent.pk}
    answers = run_at_once([lambda c=c: c.post(f"/posts/{post.pk}/comments", body) for c in clients])
    assert [answer.status_code for answer in answers] == [201] * 20
    parent.refresh_from_db()
    assert parent.reply_count == 20
    assert_consistent()


def test_a_reply_racing_its_parents_deletion_leaves_a_consistent_thread(
    user, other_user, make_post, make_comment
):
    post = make_post()
    owner, replier = client_for(user), client_for(other_user)
    for _ in range(12):
        parent = make_comment(post)
        deleted, replied = run_at_once(
            [
                lambda p=parent: owner.delete(f"/comments/{p.pk}"),
                lambda p=parent: replier.post(
                    f"/posts/{post.pk}/comments", {"content": "r", "parent_id": p.pk}
                ),
            ]
        )
        assert deleted.status_code == 204
        assert replied.status_code in (201, 422), replied.content
        left = Comment.objects.filter(pk=parent.pk).first()
        if replied.status_code == 201:  # the reply came first: the parent is a tombstone above it
            assert left is not None and left.deleted and left.reply_count == 1
            assert Comment.objects.get(pk=replied.json()["id"]).parent_id == parent.pk
        else:  # the deletion came first: the parent is gone, and no reply was stored
            assert left is None
    assert_consistent()


def test_concurrent_deletes_of_a_tombstones_last_replies_take_it_away(make_user, make_post, make_comment):
    post = make_post()
    for _ in range(5):
        parent = make_comment(post)
        users = [make_user() for _ in range(4)]
        replies = [make_comment(post, owner=u, parent=parent) for u in users]
        assert client_for(parent.owner).delete(f"/comments/{parent.pk}").status_code == 204
        answers = run_at_once(
            [
                lambda u=u, r=r: client_for(u).delete(f"/comments/{r.pk}")
                for u, r in zip(users, replies, strict=True)
            ]
        )
        assert [answer.status_code for answer in answers] == [204] * 4
        assert not Comment.objects.filter(pk=parent.pk).exists()
    assert_consistent()


def test_the_same_comment_deleted_twice_at_once_is_one_204_and_one_404(user, make_post, make_comment):
    post = make_post()
    comment = make_comment(post)
    answers = run_at_once([lambda: client_for(user).delete(f"/comments/{comment.pk}") for _ in range(2)])
    assert sorted(answer.status_code for answer in answers) == [204, 404]
    assert not Comment.objects.exists()
