import pytest

from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db


def test_get_one_is_post_out(auth_client, user, make_post):
    post = make_post()
    Vote.objects.create(user=user, post=post)
    for path in (f"/posts/{post.pk}", f"/posts/{post.pk}/"):
        response = auth_client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["votes"] == 1
        assert body["Post"]["id"] == post.pk and body["Post"]["owner_id"] == user.pk


def test_missing_post_is_404(auth_client):
    response = auth_client.get("/posts/12345")
    assert response.status_code == 404
    assert response.json() == {"detail": "post with id: 12345 was not found"}


def test_someone_elses_draft_is_404(other_client, make_post):
    post = make_post(published=False)
    response = other_client.get(f"/posts/{post.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"post with id: {post.pk} was not found"}


def test_owner_sees_own_draft(auth_client, make_post):
    post = make_post(published=False)
    assert auth_client.get(f"/posts/{post.pk}").json()["Post"]["published"] is False


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "99999999999999999999", "1e3"])
def test_bad_post_id_is_422_at_path(auth_client, bad_id):
    response = auth_client.get(f"/posts/{bad_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]


def test_negative_id_is_404(auth_client):
    assert auth_client.get("/posts/-1").status_code == 404


def test_get_one_runs_two_queries(auth_client, make_post, django_assert_max_num_queries):
    post = make_post()
    with django_assert_max_num_queries(2):
        assert auth_client.get(f"/posts/{post.pk}").status_code == 200


def test_delete_cascades_to_votes(auth_client, user, other_user, make_post):
    post = make_post()
    Vote.objects.create(user=other_user, post=post)
    response = auth_client.delete(f"/posts/{post.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not Vote.objects.exists()


def test_deleting_a_user_deletes_their_posts_and_votes(user, other_user, make_post):
    post = make_post()
    Vote.objects.create(user=other_user, post=post)
    theirs = make_post(owner=other_user)
    Vote.objects.create(user=user, post=theirs)
    user.delete()
    assert list(Post.objects.all()) == [theirs]
    assert not Vote.objects.exists()
