"""POST /vote/ on its fast path: the body validated by one VoteSerializer per process, the
post's visibility read by the compiled query (posts.queries); what a client sees is unchanged."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from votes.models import Vote

pytestmark = pytest.mark.django_db


def test_a_vote_is_three_statements_and_a_remove_three(auth_client, make_post):
    post = make_post()
    for direction in (1, 0):
        with CaptureQueriesContext(connection) as queries:
            assert auth_client.post("/vote/", {"post_id": post.pk, "dir": direction}).status_code == 201
        # The test's own transaction adds savepoints around the vote's statement.
        statements = [query["sql"] for query in queries if "SAVEPOINT" not in query["sql"]]
        assert len(statements) == 3, statements
    assert not Vote.objects.exists()


def test_a_hidden_post_and_another_users_draft_are_404(auth_client, other_user, make_post):
    for post in (make_post(hidden=True), make_post(owner=other_user, published=False)):
        response = auth_client.post("/vote/", {"post_id": post.pk, "dir": 1})
        assert response.status_code == 404
        assert response.json() == {"detail": f"Post with id: {post.pk} does not exist"}
    assert not Vote.objects.exists()


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
