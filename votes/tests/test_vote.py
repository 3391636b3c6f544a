import pytest

from votes.models import Vote

pytestmark = pytest.mark.django_db


def test_vote_adds_a_vote(auth_client, user, make_post):
    post = make_post()
    response = auth_client.post("/vote/", {"post_id": post.pk, "dir": 1})
    assert response.status_code == 201
    assert response.json() == {"message": "successfully added vote"}
    assert Vote.objects.filter(user=user, post=post).count() == 1


def test_second_vote_is_409(auth_client, user, make_post):
    post = make_post()
    auth_client.post("/vote", {"post_id": post.pk, "dir": 1})
    response = auth_client.post("/vote", {"post_id": post.pk, "dir": 1})
    assert response.status_code == 409
    assert response.json() == {"detail": f"user {user.pk} has already voted on post {post.pk}"}
    assert Vote.objects.count() == 1


def test_remove_vote(auth_client, user, make_post):
    post = make_post()
    Vote.objects.create(user=user, post=post)
    response = auth_client.post("/vote/", {"post_id": post.pk, "dir": 0})
    assert response.status_code == 201
    assert response.json() == {"message": "successfully deleted vote"}
    assert not Vote.objects.exists()


def test_remove_missing_vote_is_404(auth_client, make_post):
    post = make_post()
    response = auth_client.post("/vote/", {"post_id": post.pk, "dir": 0})
    assert response.status_code == 404
    assert response.json() == {"detail": "Vote does not exist"}


@pytest.mark.parametrize("direction", [0, 1])
def test_vote_on_missing_post_is_404_first(auth_client, direction):
    response = auth_client.post("/vote/", {"post_id": 999, "dir": direction})
    assert response.status_code == 404
    assert response.json() == {"detail": "Post with id: 999 does not exist"}


def test_vote_on_someone_elses_draft_is_404(other_client, make_post):
    post = make_post(published=False)
    response = other_client.post("/vote/", {"post_id": post.pk, "dir": 1})
    assert response.status_code == 404
    assert not Vote.objects.exists()


def test_user_may_vote_on_own_post(auth_client, make_post):
    assert auth_client.post("/vote/", {"post_id": make_post().pk, "dir": 1}).status_code == 201


def test_other_users_vote_does_not_block_mine(auth_client, other_client, make_post):
    post = make_post()
    assert other_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    assert auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    assert auth_client.get(f"/posts/{post.pk}").json()["votes"] == 2


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"post_id": 1, "dir": 2}, ["body", "dir"]),
        ({"post_id": 1, "dir": -1}, ["body", "dir"]),
        ({"post_id": 1, "dir": True}, ["body", "dir"]),
        ({"post_id": 1, "dir": 1.5}, ["body", "dir"]),
        ({"post_id": "abc", "dir": 1}, ["body", "post_id"]),
        ({"post_id": 1.5, "dir": 1}, ["body", "post_id"]),
        ({"post_id": True, "dir": 1}, ["body", "post_id"]),
        ({"post_id": 2**64, "dir": 1}, ["body", "post_id"]),
        ({"dir": 1}, ["body", "post_id"]),
        ({"post_id": 1}, ["body", "dir"]),
    ],
)
def test_bad_vote_body_is_422(auth_client, body, loc):
    response = auth_client.post("/vote/", body)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]


@pytest.mark.django_db(transaction=True)  # as in production: no test transaction's savepoints
def test_vote_runs_at_most_four_queries(auth_client, make_post, django_assert_max_num_queries):
    post = make_post()
    with django_assert_max_num_queries(4):
        assert auth_client.post("/vote/", {"post_id": post.pk, "dir": 1}).status_code == 201
    with django_assert_max_num_queries(4):
        assert auth_client.post("/vote/", {"post_id": post.pk, "dir": 0}).status_code == 201
