"""The "comments" section of GET /users/me/export."""

import json

import pytest

from comments.models import Comment

pytestmark = pytest.mark.django_db


def test_the_export_holds_the_callers_comments_and_no_one_elses(
    auth_client, user, other_user, post, make_comment
):
    mine = make_comment(post, content="mine")
    reply = make_comment(post, parent=mine, content="my reply")
    hidden = make_comment(post, content="hidden")
    Comment.objects.filter(pk=hidden.pk).update(hidden=True)
    make_comment(post, owner=other_user, content="theirs")
    gone = make_comment(post, content="deleted")
    make_comment(post, owner=other_user, parent=gone)
    Comment.objects.filter(pk=gone.pk).update(deleted=True)  # a tombstone: no one's any more
    answer = auth_client.get("/users/me/export")
    body = json.loads(b"".join(answer.streaming_content))
    rows = [(c["id"], c["parent_id"], c["content"], c["hidden"]) for c in body["comments"]]
    assert rows == [
        (mine.pk, None, "mine", False),
        (reply.pk, mine.pk, "my reply", False),
        (hidden.pk, None, "hidden", True),
    ]
    assert body["comments"][0]["created_at"].endswith("+00:00") and body["comments"][0]["edited_at"] is None
