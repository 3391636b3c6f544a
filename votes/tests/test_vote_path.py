"""POST /vote/ on its fast path: the body validated by one VoteSerializer per process, the
post's visibility checked in the vote's own statement (votes.services); what a client sees is
unchanged."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.models import Post
from posts.triggers import hidden_writable
from votes.models import Vote

pytestmark = pytest.mark.django_db


def test_a_vote_is_the_user_row_and_one_statement_and_so_is_a_remove(auth_client, make_post):
    post = make_post()
    for direction in (1, 0):
        with CaptureQueriesContext(connection) as queries:
            assert auth_client.post("/vote/", {"post_id": post.pk, "dir": direction}).status_code == 201
        # The test's own transaction adds savepoints around the vote's statement.
        statements = [query["sql"] for query in queries if "SAVEPOINT" not in query["sql"]]
        assert len(statements) == 2, statements
    assert not Vote.objects.exists()


def test_a_hidden_post_and_another_users_draft_are_404(auth_client, other_user, make_post):
    for post in (make_post(hidden=True), make_post(owner=other_user, published=False)):
        response = auth_client.post("/vote/", {"post_id": post.pk, "dir": 1})
        assert response.status_code == 404
        assert response.json() == {"detail": f"Post with id: {post.pk} does not exist"}
    assert not Vote.objects.exists()


def test_a_post_hidden_after_the_vote_is_404_both_ways_and_keeps_the_vote(auth_client, user, make_post):
    post = make_post()
    Vote.objects.create(user=user, post=post)
    with hidden_writable():  # as staff hide it (moderation)
        Post.objects.filter(pk=post.pk).update(hidden=True)
    missing = {"detail": f"Post with id: {post.pk} does not exist"}
    for direction in (1, 0):  # not 409 "already voted", not 404 "Vote does not exist"
        response = auth_client.post("/vote/", {"post_id": post.pk, "dir": direction})
        assert (response.status_code, response.json()) == (404, missing)
    assert Vote.objects.filter(user=user, post=post).exists()


def test_a_missing_post_is_404_both_ways(auth_client):
    for direction in (1, 0):
        response = auth_client.post("/vote/", {"post_id": 424242, "dir": direction})
        assert (response.status_code, response.json()) == (
            404,
            {"detail": "Post with id: 424242 does not exist"},
        )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"post_id": 1}, ["body", "dir"]),
        ({"post_id": "x", "dir": 1}, ["body", "post_id"]),
        ({"post_id": 1, "dir": 2}, ["body", "dir"]),
        ({"post_id": True, "dir": 1}, ["body", "post_id"]),
    ],
)
def test_a_bad_vote_body_is_422_at_its_field(auth_client, body, loc):
    response = auth_client.post("/vote/", body)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


@pytest.mark.parametrize("body", ["null", "[]", "7"])
def test_a_vote_body_that_is_not_an_object_is_422_at_body(auth_client, body):
    response = auth_client.post("/vote/", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
