"""The one moderation queue: reported posts and reported comments on one admin page, and its
actions on a mixed selection, each dispatched to its kind's service and recorded."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comments.models import Comment
from moderation import comment_services, services
from moderation.models import CommentReport, ModerationAction, Report, ReportedPost
from posts.models import Post

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/queueentry/"


@pytest.fixture
def mod_client(client, make_user):
    """Staff in the Moderators group (made by a migration), not a superuser."""
    person = make_user("mod@example.com", is_staff=True)
    person.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(person)
    return client


@pytest.fixture
def mixed(make_user, make_post, other_user):
    """A reported post and a reported reply on another post: (post, comment, parent)."""
    reporter = make_user()
    post = make_post(title="buy now", owner=other_user)
    thread = make_post(title="a quiet thread")
    parent = Comment.objects.create(post=thread, owner=thread.owner, content="the parent")
    comment = Comment.objects.create(post=thread, owner=other_user, parent=parent, content="buy my stuff")
    services.report_post(user=reporter, post_id=post.pk, reason="spam")
    comment_services.report_comment(user=reporter, comment_id=comment.pk, reason="abuse")
    return post, comment, parent


def act(client, action: str, *entries: str, reason: str = "", state: str = ""):
    return client.post(
        f"{QUEUE}?state={state}" if state else QUEUE,
        {"action": action, "_selected_action": list(entries), "reason": reason, "index": 0},
        follow=True,
    )


def entries(post: Post, comment: Comment) -> list[str]:
    return [f"post-{post.pk}", f"comment-{comment.pk}"]


def row(html: str, text: str) -> str:
    """The table row of the queue's page holding ``text``."""
    (found,) = [tr for tr in html.split("<tr")[1:] if text in tr]
    return found.split("</tr>")[0]


def test_the_queue_lists_a_reported_post_and_a_reported_comment_together(mod_client, mixed):
    post, comment, parent = mixed
    page = mod_client.get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    post_row = row(html, ">buy now<")
    assert '<td class="field-kind">post</td>' in post_row and "spam (1)" in post_row
    assert f'href="/admin/posts/post/{post.pk}/change/"' in post_row
    comment_row = row(html, "buy my stuff")
    assert '<td class="field-kind">comment</td>' in comment_row and "abuse (1)" in comment_row
    assert f'href="/admin/comments/comment/{comment.pk}/change/"' in comment_row
    assert f'on <a href="/admin/posts/post/{comment.post_id}/change/">a quiet thread</a>' in comment_row
    assert f'in reply to <a href="/admin/comments/comment/{parent.pk}/change/">#{parent.pk}<' in comment_row
    assert mod_client.get(f"{QUEUE}?kind=comment").content.decode().count(">buy now<") == 0
    # One queue in the admin index; the per-kind pages are not listed there.
    index = mod_client.get("/admin/").content.decode()
    assert QUEUE in index
    assert "/admin/moderation/reportedpost/" not in index
    assert "/admin/moderation/reportedcomment/" not in index


def test_the_queue_is_oldest_open_report_first_or_most_reported_first(mod_client, mixed, make_user):
    _, comment, _ = mixed
    comment_services.report_comment(user=make_user(), comment_id=comment.pk, reason="spam")
    html = mod_client.get(QUEUE).content.decode()
    assert html.index(">buy now<") < html.index("buy my stuff")  # the post was reported first
    html = mod_client.get(f"{QUEUE}?o=-4").content.decode()  # by "open reports", most first
    assert html.index("buy my stuff") < html.index(">buy now<")


def test_hide_and_restore_a_mixed_selection(mod_client, mixed):
    post, comment, _ = mixed
    refused = act(mod_client, "hide", *entries(post, comment))
    assert "Give a reason to hide" in refused.content.decode()
    assert not Post.objects.get(pk=post.pk).hidden and not Comment.objects.get(pk=comment.pk).hidden

    page = act(mod_client, "hide", *entries(post, comment), reason="ads").content.decode()
    assert "Hid 1 post(s) and 1 comment(s)." in page
    assert Post.objects.get(pk=post.pk).hidden and Comment.objects.get(pk=comment.pk).hidden
    assert not Report.objects.filter(resolved_at=None).exists()
    assert not CommentReport.objects.filter(resolved_at=None).exists()

    act(mod_client, "restore", *entries(post, comment), state="all")
    assert not Post.objects.get(pk=post.pk).hidden and not Comment.objects.get(pk=comment.pk).hidden
    record = ModerationAction.objects.order_by("id").values_list(
        "action", "post_id", "comment_id", "reason", "moderator__email"
    )
    assert list(record) == [
        ("hide", post.pk, None, "ads", "mod@example.com"),
        ("hide", comment.post_id, comment.pk, "ads", "mod@example.com"),
        ("restore", post.pk, None, "", "mod@example.com"),
        ("restore", comment.post_id, comment.pk, "", "mod@example.com"),
    ]


def test_dismiss_a_mixed_selection(mod_client, mixed):
    post, comment, _ = mixed
    page = act(mod_client, "dismiss", *entries(post, comment), reason="fine").content.decode()
    assert "Dismissed the reports of 1 post(s) and 1 comment(s)." in page
    assert not Report.objects.filter(resolved_at=None).exists()
    assert not CommentReport.objects.filter(resolved_at=None).exists()
    assert ReportedPost.objects.get(post=post).open_reports == 0
    assert not Post.objects.get(pk=post.pk).hidden and not Comment.objects.get(pk=comment.pk).hidden
    assert "buy my stuff" not in mod_client.get(QUEUE).content.decode()  # open reports only
    record = ModerationAction.objects.order_by("id").values_list("action", "post_id", "comment_id")
    assert list(record) == [("dismiss", post.pk, None), ("dismiss", comment.post_id, comment.pk)]


def test_deactivate_the_authors_of_a_mixed_selection(mod_client, mixed, make_user, make_post):
    post, comment, _ = mixed
    # A third entry, a comment by another author.
    writer = make_user("writer@example.com")
    other = Comment.objects.create(post=post, owner=writer, content="also bad")
    comment_services.report_comment(user=post.owner, comment_id=other.pk, reason="spam")
    page = act(
        mod_client, "deactivate_author", *entries(post, comment), f"comment-{other.pk}", reason="spammer"
    ).content.decode()
    assert "Deactivated 2 author(s)" in page
    post.owner.refresh_from_db()
    writer.refresh_from_db()
    assert not post.owner.is_active and not writer.is_active  # the post's and comment's author, once
    record = ModerationAction.objects.order_by("id").values_list(
        "action", "author_id", "comment_id", "reason"
    )
    assert list(record) == [
        ("deactivate", post.owner_id, None, "spammer"),
        ("deactivate", writer.pk, other.pk, "spammer"),
    ]


def test_only_moderators_may_act(client, make_user, mixed):
    post, comment, _ = mixed
    client.force_login(make_user("staff@example.com", is_staff=True))
    assert client.get(QUEUE).status_code == 403
    act(client, "hide", *entries(post, comment), reason="ads")
    assert not Post.objects.get(pk=post.pk).hidden and not Comment.objects.get(pk=comment.pk).hidden
    assert not ModerationAction.objects.exists()


def test_a_page_of_the_queue_costs_the_same_queries_for_more_entries(mod_client, mixed, make_user, make_post):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert mod_client.get(QUEUE).status_code == 200
        return len(captured)

    before = queries()
    reporter = make_user()
    for number in range(3):
        post = make_post(title=f"more {number}")
        comment = Comment.objects.create(post=post, owner=make_user(), content=f"reply {number}")
        services.report_post(user=reporter, post_id=post.pk, reason="spam", note="a note")
        comment_services.report_comment(user=reporter, comment_id=comment.pk, reason="abuse", note="a note")
    assert queries() == before
