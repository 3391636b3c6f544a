"""Reporting comments, and the comments' moderation queue in the admin (docs/comments.md)."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from comments.models import Comment
from moderation.models import CommentReport, ModerationAction
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db


def test_report_once_then_409(other_client, post, make_comment):
    comment = make_comment(post)
    answer = other_client.post(f"/comments/{comment.pk}/report", {"reason": "spam", "note": "a shop"})
    assert (answer.status_code, answer.json()) == (201, {"message": "report received"})
    report = CommentReport.objects.get()
    assert (report.comment_id, report.reason, report.note, report.resolved_at) == (
        comment.pk,
        "spam",
        "a shop",
        None,
    )
    again = other_client.post(f"/comments/{comment.pk}/report/", {"reason": "abuse"})
    assert_error(again, 409, f"comment {comment.pk} already reported")
    assert CommentReport.objects.count() == 1


def test_report_of_a_gone_hidden_or_invisible_comment_is_404(
    other_client, post, make_post, make_comment, user, moderator
):
    from moderation import comment_services

    parent = make_comment(post)
    make_comment(post, parent=parent)
    Comment.objects.filter(pk=parent.pk).update(deleted=True)
    hidden = make_comment(post)
    comment_services.hide_comments(moderator=moderator, comments=[hidden], reason="spam")
    draft = make_post(published=False)
    on_draft = make_comment(draft)
    for comment_id in (parent.pk, hidden.pk, on_draft.pk, 999_999):
        answer = other_client.post(f"/comments/{comment_id}/report", {"reason": "spam"})
        assert_error(answer, 404, f"comment with id: {comment_id} was not found")
    assert_error(other_client.post(f"/comments/{post.pk}/report", {"reason": "nope"}), {404, 422})
    assert not CommentReport.objects.exists()


def test_bad_report_body_is_422(other_client, post, make_comment):
    comment = make_comment(post)
    assert_error(
        other_client.post(f"/comments/{comment.pk}/report", {"reason": "nope"}), 422, loc=["body", "reason"]
    )


def test_a_hidden_comment_is_a_tombstone_to_everyone_and_restore_brings_it_back(
    auth_client, other_client, post, make_comment, moderator
):
    from moderation import comment_services

    comment = make_comment(post, content="rude")
    assert comment_services.hide_comments(moderator=moderator, comments=[comment], reason="abuse") == 1
    for client in (auth_client, other_client):  # its owner included
        body = client.get(f"/comments/{comment.pk}").json()
        assert (body["deleted"], body["content"], body["owner"]) == (True, "", None)
        assert client.get(f"/posts/{post.pk}/comments").json()[0]["deleted"] is True
    assert_error(auth_client.patch(f"/comments/{comment.pk}", {"content": "nice"}), 404)
    assert_error(auth_client.delete(f"/comments/{comment.pk}"), 404)
    reply = other_client.post(f"/posts/{post.pk}/comments", {"content": "r", "parent_id": comment.pk})
    assert_error(reply, 422, loc=["body", "parent_id"])
    assert comment_services.restore_comments(moderator=moderator, comments=[comment]) == 1
    body = other_client.get(f"/comments/{comment.pk}").json()
    assert (body["deleted"], body["content"], body["owner_id"]) == (False, "rude", comment.owner_id)
    assert list(ModerationAction.objects.order_by("id").values_list("action", "comment_id", "post_id")) == [
        ("hide", comment.pk, post.pk),
        ("restore", comment.pk, post.pk),
    ]


@pytest.fixture
def staff_client(make_user):
    """A staff member of the Moderators group (not a superuser), logged in to the admin."""
    member = make_user("member@example.com", is_staff=True)
    member.groups.add(Group.objects.get(name="Moderators"))
    client = Client()
    client.force_login(member)
    return client


def test_the_queue_lists_a_reported_comment_with_its_post_and_actions_are_recorded(
    staff_client, other_user, post, make_comment
):
    from moderation import comment_services

    parent = make_comment(post, content="the parent")
    reported = make_comment(post, owner=other_user, parent=parent, content="buy my stuff")
    comment_services.report_comment(user=post.owner, comment_id=reported.pk, reason="spam")
    page = staff_client.get("/admin/moderation/reportedcomment/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "buy my stuff" in html and post.title in html and f"#{parent.pk}" in html and "spam" in html
    # The post's page shows the thread around it.
    post_page = staff_client.get(f"/admin/posts/post/{post.pk}/change/").content.decode()
    assert "the parent" in post_page and "buy my stuff" in post_page
    answer = staff_client.post(
        "/admin/moderation/reportedcomment/",
        {"action": "hide", "_selected_action": [reported.pk], "reason": "advertising"},
    )
    assert answer.status_code == 302
    assert Comment.objects.get(pk=reported.pk).hidden
    assert CommentReport.objects.get().resolved_at is not None
    record = ModerationAction.objects.get()
    assert (record.action, record.comment_id, record.reason, record.reports_closed) == (
        "hide",
        reported.pk,
        "advertising",
        1,
    )
    staff_client.post(
        "/admin/moderation/reportedcomment/?state=all",
        {"action": "deactivate_author", "_selected_action": [reported.pk]},
    )
    other_user.refresh_from_db()
    assert not other_user.is_active
