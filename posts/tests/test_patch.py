"""PATCH /posts/{id}: the owner changes any of title, content and published."""

import pytest

from posts.models import Post

pytestmark = pytest.mark.django_db

POST_KEYS = ["title", "content", "published", "id", "created_at", "owner_id", "owner"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": "new title"}, ("new title", "some content", True)),
        ({"content": "new content"}, ("a title", "new content", True)),
        ({"published": False}, ("a title", "some content", False)),
        ({"title": "t", "content": "c", "published": False}, ("t", "c", False)),
        ({}, ("a title", "some content", True)),
    ],
    ids=["title", "content", "published", "all", "nothing"],
)
def test_patch_changes_only_the_given_fields(auth_client, user, make_post, change, expected):
    post = make_post()
    response = auth_client.patch(f"/posts/{post.pk}", change)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == POST_KEYS
    assert (body["title"], body["content"], body["published"]) == expected
    assert body["id"] == post.pk and body["owner_id"] == user.pk and body["owner"]["id"] == user.pk
    post.refresh_from_db()
    assert (post.title, post.content, post.published) == expected


def test_patch_without_slash_and_with(auth_client, make_post):
    post = make_post()
    assert auth_client.patch(f"/posts/{post.pk}/", {"title": "x"}).status_code == 200
    assert auth_client.patch(f"/posts/{post.pk}", {"title": "y"}).status_code == 200


def test_owner_can_publish_their_draft(auth_client, make_post):
    post = make_post(published=False)
    assert auth_client.patch(f"/posts/{post.pk}", {"published": True}).json()["published"] is True


def test_patch_ignores_server_owned_fields(auth_client, user, other_user, make_post):
    post = make_post()
    created = post.created_at
    response = auth_client.patch(
        f"/posts/{post.pk}",
        {"owner_id": other_user.pk, "id": 4242, "created_at": "2000-01-01T00:00:00Z", "title": "t"},
    )
    assert response.status_code == 200
    post.refresh_from_db()
    assert (post.owner_id, post.created_at, post.title) == (user.pk, created, "t")
    assert not Post.objects.filter(pk=4242).exists()


def test_non_owner_cannot_patch(other_client, make_post):
    post = make_post()
    response = other_client.patch(f"/posts/{post.pk}", {"title": "hacked"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to perform requested action"}
    post.refresh_from_db()
    assert post.title == "a title"


def test_missing_post_is_404_before_the_body_is_read(auth_client):
    response = auth_client.patch("/posts/999", {"title": 5})
    assert response.status_code == 404
    assert response.json() == {"detail": "post with id: 999 does not exist"}


def test_existence_is_checked_before_ownership(other_client, make_post):
    draft = make_post(published=False)  # someone else's draft does not exist for the caller
    response = other_client.patch(f"/posts/{draft.pk}", {"title": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": f"post with id: {draft.pk} does not exist"}


def test_ownership_is_checked_before_the_body(other_client, make_post):
    post = make_post()
    assert other_client.patch(f"/posts/{post.pk}", {"title": 5}).status_code == 403


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"title": 5}, ["body", "title"]),
        ({"title": None}, ["body", "title"]),
        ({"content": ["x"]}, ["body", "content"]),
        ({"published": "maybe"}, ["body", "published"]),
        ({"published": None}, ["body", "published"]),
        ({"content": "c" * 100_001}, ["body", "content"]),
        ({"content": "a\u0000b"}, ["body", "content"]),
    ],
    ids=["number", "null-title", "list", "bad-bool", "null-bool", "content-too-long", "nul"],
)
def test_bad_values_are_422_and_change_nothing(auth_client, make_post, body, loc):
    post = make_post()
    response = auth_client.patch(f"/posts/{post.pk}", body)
    assert response.status_code == 422
    assert loc in [error["loc"] for error in response.json()["detail"]]
    post.refresh_from_db()
    assert (post.title, post.content, post.published) == ("a title", "some content", True)


@pytest.mark.parametrize(("raw", "loc"), [("", ["body"]), ("{bad", ["body"]), ("[1]", ["body"])])
def test_missing_or_malformed_body_is_422(auth_client, make_post, raw, loc):
    post = make_post()
    response = auth_client.patch(f"/posts/{post.pk}", raw, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "99999999999999999999"])
def test_bad_id_is_422(auth_client, bad_id):
    response = auth_client.patch(f"/posts/{bad_id}", {"title": "t"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]


def test_patch_needs_a_token(api_client, make_post):
    post = make_post()
    response = api_client.patch(f"/posts/{post.pk}", {"title": "x"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
