"""GET, PATCH and DELETE /comments/{id}, and tombstones (docs/comments.md)."""

import pytest

from accounts.models import User
from comments.models import Comment
from posts.models import Post
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

NOT_AUTHORIZED = "Not authorized to perform requested action"


def not_found(comment_id) -> str:
    return f"comment with id: {comment_id} was not found"


def test_get_one(auth_client, post, make_comment, user):
    comment = make_comment(post, content="hi")
    answer = auth_client.get(f"/comments/{comment.pk}")
    assert answer.status_code == 200
    assert answer.json()["content"] == "hi" and answer.json()["owner"]["id"] == user.pk
    assert (
        auth_client.get(
            f"/comments/{comment.pk}/", headers={"If-None-Match": answer.headers["ETag"]}
        ).status_code
        == 304
    )


def test_get_one_runs_a_fixed_number_of_queries(
    auth_client, post, make_comment, django_assert_max_num_queries
):
    comment = make_comment(post)
    with django_assert_max_num_queries(2):  # the user; the comment with its post's visibility and owner
        assert auth_client.get(f"/comments/{comment.pk}").status_code == 200


def test_a_comment_on_a_post_the_caller_cannot_see_is_404_on_every_route(
    auth_client, make_post, other_user, make_comment, hide_post
):
    draft = make_post(owner=other_user, published=False)
    hidden = make_post(owner=other_user)
    comments = [make_comment(draft), make_comment(hidden)]
    hide_post(hidden)
    for comment in comments:
        for answer in (
            auth_client.get(f"/comments/{comment.pk}"),
            auth_client.patch(f"/comments/{comment.pk}", {"content": "x"}),
            auth_client.delete(f"/comments/{comment.pk}"),
            auth_client.get(f"/posts/{comment.post_id}/comments"),
        ):
            assert answer.status_code == 404, answer.content
    assert Comment.objects.filter(content="a comment").count() == 2


def test_ids_are_checked(auth_client):
    assert_error(auth_client.get("/comments/abc"), 422, loc=["path", "id"])
    assert_error(auth_client.get(f"/comments/{2**63}"), 422, loc=["path", "id"])
    assert_error(auth_client.get("/comments/999999"), 404, not_found(999999))
    assert_error(auth_client.put("/comments/1", {"content": "x"}), 405, "Method Not Allowed")


def test_owner_edits_and_edited_at_is_set(auth_client, post, make_comment):
    comment = make_comment(post)
    answer = auth_client.patch(f"/comments/{comment.pk}", {"content": "new"})
    assert answer.status_code == 200, answer.content
    comment.refresh_from_db()
    assert comment.content == "new" and comment.edited_at is not None
    assert answer.json()["content"] == "new" and answer.json()["edited_at"].endswith("+00:00")


@pytest.mark.parametrize("body", [{}, {"content": None}, {"content": "  "}, {"content": "x" * 10_001}])
def test_patch_needs_valid_content(auth_client, post, make_comment, body):
    comment = make_comment(post)
    assert_error(auth_client.patch(f"/comments/{comment.pk}", body), 422, loc=["body", "content"])
    comment.refresh_from_db()
    assert comment.content == "a comment" and comment.edited_at is None


def test_others_get_403_after_404_the_posts_owner_included(
    other_client, auth_client, post, make_comment, other_user
):
    theirs = make_comment(post, owner=other_user)  # on owner@'s post
    assert_error(auth_client.patch(f"/comments/{theirs.pk}", {}), 403, NOT_AUTHORIZED)
    assert_error(auth_client.delete(f"/comments/{theirs.pk}"), 403, NOT_AUTHORIZED)
    assert Comment.objects.filter(pk=theirs.pk, content="a comment").exists()


def test_if_match_is_checked_last(auth_client, post, make_comment):
    comment = make_comment(post)
    etag = auth_client.get(f"/comments/{comment.pk}").headers["ETag"]
    stale = {"If-Match": '"stale"'}
    assert_error(auth_client.patch(f"/comments/{comment.pk}", {}, headers=stale), 422)
    assert_error(
        auth_client.patch(f"/comments/{comment.pk}", {"content": "x"}, headers=stale),
        412,
        "Precondition Failed",
    )
    assert_error(auth_client.delete(f"/comments/{comment.pk}", headers=stale), 412, "Precondition Failed")
    assert (
        auth_client.patch(f"/comments/{comment.pk}", {"content": "x"}, headers={"If-Match": etag}).status_code
        == 200
    )
    assert_error(auth_client.delete(f"/comments/{comment.pk}", headers={"If-Match": etag}), 412)
    etag = auth_client.get(f"/comments/{comment.pk}").headers["ETag"]
    assert auth_client.delete(f"/comments/{comment.pk}", headers={"If-Match": etag}).status_code == 204


def test_delete_without_replies_is_gone(auth_client, post, make_comment):
    comment = make_comment(post)
    assert auth_client.delete(f"/comments/{comment.pk}").status_code == 204
    assert not Comment.objects.exists()
    assert_error(auth_client.get(f"/comments/{comment.pk}"), 404, not_found(comment.pk))


def test_delete_with_replies_leaves_a_tombstone_until_the_last_reply_goes(
    auth_client, other_client, post, make_comment, other_user
):
    parent = make_comment(post, content="secret")
    reply = make_comment(post, owner=other_user, parent=parent)
    assert auth_client.delete(f"/comments/{parent.pk}").status_code == 204
    body = auth_client.get(f"/comments/{parent.pk}").json()
    assert body | {"created_at": None} == {
        "id": parent.pk,
        "post_id": post.pk,
        "parent_id": None,
        "content": "",
        "created_at": None,
        "edited_at": None,
        "deleted": True,
        "reply_count": 1,
        "owner_id": None,
        "owner": None,
    }
    assert Comment.objects.get(pk=parent.pk).content == ""  # not kept in the database either
    for answer in (
        auth_client.patch(f"/comments/{parent.pk}", {"content": "back"}),
        auth_client.delete(f"/comments/{parent.pk}"),
    ):
        assert_error(answer, 404, not_found(parent.pk))
    reply_to_tombstone = other_client.post(
        f"/posts/{post.pk}/comments", {"content": "r", "parent_id": parent.pk}
    )
    assert_error(reply_to_tombstone, 422, loc=["body", "parent_id"])
    assert other_client.delete(f"/comments/{reply.pk}").status_code == 204
    assert not Comment.objects.exists()


def test_a_chain_of_tombstones_goes_with_its_last_reply(auth_client, post, make_comment):
    root = make_comment(post)
    middle = make_comment(post, parent=root)
    leaf = make_comment(post, parent=middle)
    sibling = make_comment(post)
    for comment in (root, middle):
        assert auth_client.delete(f"/comments/{comment.pk}").status_code == 204
    assert Comment.objects.filter(deleted=True).count() == 2
    assert auth_client.delete(f"/comments/{leaf.pk}").status_code == 204
    assert list(Comment.objects.values_list("pk", flat=True)) == [sibling.pk]


def test_deleting_a_post_deletes_its_comments_only(auth_client, post, make_post, make_comment):
    parent = make_comment(post)
    make_comment(post, parent=parent)
    kept = make_comment(make_post())
    assert auth_client.delete(f"/posts/{post.pk}").status_code == 204
    assert list(Comment.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_a_user_deletes_their_comments_leaving_tombstones_where_others_replied(
    post, make_post, make_comment, make_user, other_user
):
    leaving = make_user("leaving@example.com")
    others_post = make_post(owner=other_user)
    alone = make_comment(others_post, owner=leaving)
    answered = make_comment(others_post, owner=leaving, content="answered")
    reply = make_comment(others_post, owner=other_user, parent=answered)
    own_chain = make_comment(others_post, owner=leaving)
    make_comment(others_post, owner=leaving, parent=own_chain)  # their own reply: goes too
    on_their_post = make_post(owner=leaving)
    make_comment(on_their_post, owner=other_user)
    User.objects.filter(pk=leaving.pk).delete()
    assert not Comment.objects.filter(pk__in=[alone.pk, own_chain.pk]).exists()
    assert not Post.objects.filter(pk=on_their_post.pk).exists()
    tombstone = Comment.objects.get(pk=answered.pk)
    assert (tombstone.deleted, tombstone.content, tombstone.owner_id, tombstone.reply_count) == (
        True,
        "",
        None,
        1,
    )
    assert set(Comment.objects.values_list("pk", flat=True)) == {answered.pk, reply.pk}


def test_reply_count_written_by_anyone_but_the_counter_is_ignored(post, make_comment):
    parent = make_comment(post)
    make_comment(post, parent=parent)
    Comment.objects.filter(pk=parent.pk).update(reply_count=42)
    parent.reply_count = 7
    parent.save()
    parent.refresh_from_db()
    assert parent.reply_count == 1
