"""POST /posts/{id}/comments (docs/comments.md)."""

import pytest

from comments.models import Comment
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

SHAPE = [
    "id",
    "post_id",
    "parent_id",
    "content",
    "created_at",
    "edited_at",
    "deleted",
    "reply_count",
    "owner_id",
    "owner",
]


def test_create_answers_the_comment_and_stores_it_as_sent(auth_client, user, post):
    answer = auth_client.post(f"/posts/{post.pk}/comments", {"content": "  hello \n"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert list(body) == SHAPE
    comment = Comment.objects.get()
    assert body["id"] == comment.pk and body["post_id"] == post.pk and body["parent_id"] is None
    assert body["content"] == comment.content == "  hello \n"
    assert (body["deleted"], body["reply_count"], body["edited_at"]) == (False, 0, None)
    assert body["owner_id"] == user.pk and body["owner"]["email"] == user.email
    assert body["created_at"].endswith("+00:00")


def test_reply_counts_on_its_parent_and_nests_to_any_depth(auth_client, post):
    top = auth_client.post(f"/posts/{post.pk}/comments/", {"content": "top"}).json()
    reply = auth_client.post(f"/posts/{post.pk}/comments", {"content": "r", "parent_id": top["id"]}).json()
    deeper = auth_client.post(f"/posts/{post.pk}/comments", {"content": "d", "parent_id": reply["id"]})
    assert deeper.status_code == 201 and deeper.json()["parent_id"] == reply["id"]
    assert auth_client.get(f"/comments/{top['id']}").json()["reply_count"] == 1
    assert auth_client.get(f"/comments/{reply['id']}").json()["reply_count"] == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "content"]),
        ({"content": ""}, ["body", "content"]),
        ({"content": " \n\t "}, ["body", "content"]),
        ({"content": None}, ["body", "content"]),
        ({"content": 5}, ["body", "content"]),
        ({"content": "x" * 10_001}, ["body", "content"]),
        ({"content": "a\u0000b"}, ["body", "content"]),
        ({"content": "c", "parent_id": 2**63}, ["body", "parent_id"]),
        ({"content": "c", "parent_id": "x"}, ["body", "parent_id"]),
        ({"content": "c", "parent_id": 999_999}, ["body", "parent_id"]),
    ],
    ids=[
        "missing",
        "empty",
        "whitespace",
        "null",
        "number",
        "too-long",
        "nul",
        "beyond-64-bits",
        "text",
        "missing-parent",
    ],
)
def test_bad_body_is_422_and_stores_nothing(auth_client, post, body, loc):
    assert_error(auth_client.post(f"/posts/{post.pk}/comments", body), 422, loc=loc)
    assert not Comment.objects.exists()


def test_content_of_the_maximum_length_is_kept(auth_client, post):
    assert auth_client.post(f"/posts/{post.pk}/comments", {"content": "x" * 10_000}).status_code == 201


def test_parent_on_another_post_is_422(auth_client, post, make_post, make_comment):
    elsewhere = make_comment(make_post())
    answer = auth_client.post(f"/posts/{post.pk}/comments", {"content": "c", "parent_id": elsewhere.pk})
    assert_error(answer, 422, loc=["body", "parent_id"])
    assert Comment.objects.count() == 1


def test_reply_to_a_tombstone_or_hidden_comment_is_422(auth_client, post, make_comment):
    tombstone = make_comment(post)
    make_comment(post, parent=tombstone)
    Comment.objects.filter(pk=tombstone.pk).update(deleted=True)
    hidden = make_comment(post)
    Comment.objects.filter(pk=hidden.pk).update(hidden=True)
    for parent in (tombstone, hidden):
        answer = auth_client.post(f"/posts/{post.pk}/comments", {"content": "c", "parent_id": parent.pk})
        assert_error(answer, 422, loc=["body", "parent_id"])
    assert Comment.objects.count() == 3


def test_a_post_the_caller_cannot_see_is_404(auth_client, other_client, make_post, other_user, hide_post):
    draft = make_post(owner=other_user, published=False)
    hidden = make_post(owner=other_user)
    hide_post(hidden)
    for post_id in (draft.pk, hidden.pk, 999_999):
        answer = auth_client.post(f"/posts/{post_id}/comments", {"content": "c"})
        assert_error(answer, 404, f"post with id: {post_id} was not found")
    assert other_client.post(f"/posts/{draft.pk}/comments", {"content": "mine"}).status_code == 201


def test_404_comes_before_the_body_and_401_before_both(auth_client, api_client):
    assert_error(auth_client.post("/posts/999/comments", {}), 404)
    assert_error(api_client.post("/posts/999/comments", {}), 401, "Not authenticated")


def test_server_owned_fields_in_the_body_are_ignored(auth_client, user, other_user, post):
    body = {
        "content": "c",
        "owner_id": other_user.pk,
        "reply_count": 7,
        "deleted": True,
        "id": 4242,
        "post_id": 1,
    }
    answer = auth_client.post(f"/posts/{post.pk}/comments", body)
    assert answer.status_code == 201
    comment = Comment.objects.get()
    assert (comment.owner_id, comment.reply_count, comment.deleted, comment.post_id) == (
        user.pk,
        0,
        False,
        post.pk,
    )


def test_create_runs_a_fixed_number_of_queries(
    auth_client, post, make_comment, django_assert_max_num_queries
):
    parent = make_comment(post)
    # The user, the post's visibility, the INSERT and the webhooks' event statement in a
    # savepoint of their own (four queries).
    with django_assert_max_num_queries(6):
        answer = auth_client.post(f"/posts/{post.pk}/comments", {"content": "c", "parent_id": parent.pk})
    assert answer.status_code == 201


def test_idempotency_key_replays_the_first_answer(auth_client, post):
    headers = {"Idempotency-Key": "comment-1"}
    first = auth_client.post(f"/posts/{post.pk}/comments", {"content": "c"}, headers=headers)
    again = auth_client.post(f"/posts/{post.pk}/comments", {"content": "c"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert Comment.objects.count() == 1
    other = auth_client.post(f"/posts/{post.pk}/comments", {"content": "d"}, headers=headers)
    assert other.status_code == 422
    assert other.json() == {"detail": "Idempotency-Key reused with a different request"}
    other_post = type(post).objects.create(owner=post.owner, title="t", content="c")
    elsewhere = auth_client.post(f"/posts/{other_post.pk}/comments", {"content": "c"}, headers=headers)
    assert elsewhere.status_code == 422  # bound to its path too
    assert Comment.objects.count() == 1
