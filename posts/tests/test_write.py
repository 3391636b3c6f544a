import pytest

from posts.models import Post

pytestmark = pytest.mark.django_db

NOT_AUTHORIZED = {"detail": "Not authorized to perform requested action"}


def test_create_post_returns_flat_post(auth_client, user):
    response = auth_client.post("/posts/", {"title": "t", "content": "c"})
    assert response.status_code == 201
    body = response.json()
    assert list(body) == ["title", "content", "published", "id", "created_at", "owner_id", "owner"]
    assert body["published"] is True and body["owner_id"] == user.pk and body["owner"]["email"] == user.email
    post = Post.objects.get(pk=body["id"])
    assert (post.title, post.content, post.published, post.owner_id) == ("t", "c", True, user.pk)
    assert body["created_at"].startswith(post.created_at.strftime("%Y-%m-%dT%H:%M"))


def test_create_without_slash(auth_client):
    assert (
        auth_client.post("/posts", {"title": "t", "content": "c", "published": False}).json()["published"]
        is False
    )


def test_server_owned_fields_in_body_are_ignored(auth_client, user, other_user):
    response = auth_client.post(
        "/posts/",
        {
            "title": "t",
            "content": "c",
            "owner_id": other_user.pk,
            "id": 4242,
            "created_at": "2000-01-01T00:00:00Z",
            "votes": 9,
        },
    )
    assert response.status_code == 201
    post = Post.objects.get()
    assert post.owner_id == user.pk and post.pk != 4242 and post.created_at.year != 2000


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"content": "c"}, ["body", "title"]),
        ({"title": 5, "content": "c"}, ["body", "title"]),
        ({"title": "t", "content": None}, ["body", "content"]),
        ({"title": "t", "content": "c", "published": "maybe"}, ["body", "published"]),
        ({"title": "t\u0000", "content": "c"}, ["body", "title"]),
        ({"title": "t", "content": "c" * 100_001}, ["body", "content"]),
    ],
    ids=["missing", "number", "null", "bad-bool", "nul", "content-too-long"],
)
def test_bad_post_body_is_422(auth_client, body, loc):
    response = auth_client.post("/posts/", body)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]
    assert not Post.objects.exists()


def test_lone_surrogate_is_422(auth_client):
    # Valid JSON, but not text PostgreSQL can store.
    response = auth_client.post(
        "/posts/", '{"title": "t", "content": "\\ud800"}', content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "content"]
    assert not Post.objects.exists()


def test_unicode_round_trips(auth_client):
    text = "Grüße 🎉 日本語 \u200b"
    body = auth_client.post("/posts/", {"title": text, "content": text}).json()
    assert body["title"] == text and Post.objects.get().content == text


def test_put_replaces_and_defaults_published_to_true(auth_client, make_post):
    post = make_post(published=False)
    response = auth_client.put(f"/posts/{post.pk}", {"title": "new", "content": "new content"})
    assert response.status_code == 200
    assert response.json()["published"] is True and response.json()["title"] == "new"
    post.refresh_from_db()
    assert (post.title, post.content, post.published) == ("new", "new content", True)


def test_put_requires_title_and_content(auth_client, make_post):
    post = make_post()
    response = auth_client.put(f"/posts/{post.pk}/", {"title": "only"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "content"]


def test_put_missing_post_is_404_does_not_exist(auth_client):
    response = auth_client.put("/posts/999", {"title": "t", "content": "c"})
    assert response.status_code == 404
    assert response.json() == {"detail": "post with id: 999 does not exist"}


def test_non_owner_cannot_update_post(other_client, make_post):
    post = make_post()
    response = other_client.put(f"/posts/{post.pk}", {"title": "hacked", "content": "x"})
    assert response.status_code == 403
    assert response.json() == NOT_AUTHORIZED
    post.refresh_from_db()
    assert post.title == "a title"


def test_non_owner_cannot_delete_post(other_client, make_post):
    post = make_post()
    response = other_client.delete(f"/posts/{post.pk}")
    assert response.status_code == 403
    assert response.json() == NOT_AUTHORIZED
    assert Post.objects.filter(pk=post.pk).exists()


def test_non_owner_of_a_draft_gets_404_not_403(other_client, make_post):
    post = make_post(published=False)
    for response in (
        other_client.put(f"/posts/{post.pk}", {"title": "t", "content": "c"}),
        other_client.delete(f"/posts/{post.pk}"),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": f"post with id: {post.pk} does not exist"}


def test_delete_missing_post_is_404(auth_client):
    response = auth_client.delete("/posts/999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "post with id: 999 does not exist"}


def test_put_ignores_owner_id(auth_client, user, other_user, make_post):
    post = make_post()
    auth_client.put(f"/posts/{post.pk}", {"title": "t", "content": "c", "owner_id": other_user.pk})
    post.refresh_from_db()
    assert post.owner_id == user.pk


def test_patch_updates_only_given_fields(auth_client, make_post):
    post = make_post(title="keep")
    response = auth_client.patch(f"/posts/{post.pk}", {"published": False})
    assert response.status_code == 200
    post.refresh_from_db()
    assert (post.title, post.published) == ("keep", False)
