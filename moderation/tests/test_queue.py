"""The moderation queue in the admin: who may work it, what it shows, what each action does,
and what a page load costs."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moderation import services
from moderation.models import ModerationAction, Report, ReportedPost
from posts.models import Post

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/reportedpost/"
RECORD = "/admin/moderation/moderationaction/"


@pytest.fixture
def moderator(make_user):
    """Staff in the Moderators group (made by a migration), not a superuser."""
    person = make_user("mod@example.com", is_staff=True)
    person.groups.add(Group.objects.get(name="Moderators"))
    return person


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


def report(post: Post, *reporters, reason="spam", note="") -> None:
    for reporter in reporters:
        services.report_post(user=reporter, post_id=post.pk, reason=reason, note=note)


def act(client, action: str, *posts: Post, reason: str = "", state: str = ""):
    """An action from the queue's page, as the page's form sends it (to the page's own URL)."""
    return client.post(
        f"{QUEUE}?state={state}" if state else QUEUE,
        {"action": action, "_selected_action": [p.pk for p in posts], "reason": reason, "index": 0},
        follow=True,
    )


def rows(page: str, titles: list[str]) -> list[str]:
    shown = [t for t in titles if f">{t}<" in page]
    return sorted(shown, key=lambda t: page.index(f">{t}<"))


def test_the_queue_shows_open_reports_with_reasons_and_notes(mod_client, make_user, make_post):
    post = make_post(title="buy now")
    a, b, c = make_user(), make_user(), make_user()
    report(post, a, b, reason="spam", note="links to a shop")
    report(post, c, reason="abuse")
    page = mod_client.get(QUEUE).content.decode()
    row = page[page.index(">buy now<") :].split("</tr>")[0]
    assert "owner@example.com" in row
    assert ">3<" in row  # open reports
    assert "spam (2), abuse (1)" in row
    assert row.count("links to a shop") == 2


def test_the_queue_is_oldest_first_or_most_reported_first(mod_client, make_user, make_post):
    reporters = [make_user() for _ in range(3)]
    old, busy, new = make_post(title="old"), make_post(title="busy"), make_post(title="new")
    report(old, reporters[0])
    report(busy, *reporters)
    report(new, reporters[0])
    base = timezone.now()
    for hours, post in enumerate([old, busy, new]):
        ReportedPost.objects.filter(post=post).update(
            first_reported_at=base + datetime.timedelta(hours=hours)
        )
    titles = ["old", "busy", "new"]
    assert rows(mod_client.get(QUEUE).content.decode(), titles) == ["old", "busy", "new"]
    most = mod_client.get(QUEUE, {"o": "-3"}).content.decode()  # the "open reports" column
    assert rows(most, titles)[0] == "busy"


def test_hide_needs_a_reason_then_hides_closes_the_reports_and_records_it(
    mod_client, moderator, other_user, make_post
):
    post = make_post(title="nasty")
    report(post, other_user, reason="abuse")
    page = act(mod_client, "hide", post).content.decode()
    assert "Give a reason" in page
    assert not Post.objects.get(pk=post.pk).hidden

    page = act(mod_client, "hide", post, reason="insults another user").content.decode()
    assert "Hid 1 post(s)." in page
    assert Post.objects.get(pk=post.pk).hidden
    assert Report.objects.get(post=post).resolved_at is not None
    assert ReportedPost.objects.get(post=post).open_reports == 0
    assert ">nasty<" not in page  # gone from the open queue
    assert ">nasty<" in mod_client.get(QUEUE, {"state": "hidden"}).content.decode()
    record = ModerationAction.objects.get()
    assert (record.action, record.moderator, record.post, record.reason, record.reports_closed) == (
        "hide",
        moderator,
        post,
        "insults another user",
        1,
    )
    assert record.author == post.owner and "nasty" in record.subject


def test_restore_from_the_queue(mod_client, other_user, make_post):
    post = make_post(title="fine after all")
    report(post, other_user)
    act(mod_client, "hide", post, reason="looked like spam")
    page = act(mod_client, "restore", post, reason="it was not", state="hidden").content.decode()
    assert "Restored 1 post(s)." in page
    assert not Post.objects.get(pk=post.pk).hidden
    assert list(ModerationAction.objects.order_by("id").values_list("action", "reason")) == [
        ("hide", "looked like spam"),
        ("restore", "it was not"),
    ]


def test_dismiss_closes_the_reports_and_leaves_the_post(mod_client, make_user, make_post):
    post = make_post(title="harmless")
    report(post, make_user(), make_user())
    page = act(mod_client, "dismiss", post).content.decode()
    assert "Dismissed the reports of 1 post(s)." in page
    assert ">harmless<" not in page
    assert not Post.objects.get(pk=post.pk).hidden
    assert not Report.objects.filter(post=post, resolved_at__isnull=True).exists()
    assert Report.objects.filter(post=post).count() == 2  # kept: the same users cannot report again
    assert ModerationAction.objects.get().reports_closed == 2
    # A new report by someone else puts the post back in the queue, with one open report.
    report(post, make_user())
    assert ReportedPost.objects.get(post=post).open_reports == 1


def test_deactivating_the_author_ends_every_session_of_theirs(
    mod_client, api_client, user, other_user, make_post
):
    post = make_post(title="troll")
    report(post, other_user)
    sessions = [
        api_client.post(
            "/login", {"username": user.email, "password": "password123"}, format="multipart"
        ).json()
        for _ in range(2)
    ]
    for session in sessions:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access_token']}")
        assert api_client.get("/users/me").status_code == 200

    page = act(mod_client, "deactivate_author", post, reason="ban evasion").content.decode()
    assert "Deactivated 1 author(s)" in page
    for session in sessions:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['access_token']}")
        response = api_client.get("/users/me")
        assert response.status_code == 401
        assert response.json() == {"detail": "Could not validate credentials"}
        api_client.credentials()
        response = api_client.post("/login/refresh", {"refresh": session["refresh_token"]})
        assert response.status_code == 401
        assert response.json() == {"detail": "Could not validate credentials"}
    login = api_client.post("/login", {"username": user.email, "password": "password123"}, format="multipart")
    assert login.status_code == 403
    record = ModerationAction.objects.get()
    assert (record.action, record.author, record.reason) == ("deactivate", user, "ban evasion")


def test_deactivation_leaves_staff_authors_alone(mod_client, make_user, other_user, make_post):
    colleague = make_user("staff@example.com", is_staff=True)
    post = make_post(owner=colleague, title="staff post")
    report(post, other_user)
    page = act(mod_client, "deactivate_author", post).content.decode()
    assert "Left 1 staff account(s) alone." in page
    colleague.refresh_from_db()
    assert colleague.is_active
    assert not ModerationAction.objects.exists()


def test_staff_without_the_moderators_group_cannot_work_the_queue(client, make_user, other_user, make_post):
    post = make_post()
    report(post, other_user)
    client.force_login(make_user("staff@example.com", is_staff=True))
    assert client.get(QUEUE).status_code == 403
    assert client.get(RECORD).status_code == 403
    act(client, "hide", post, reason="no")
    assert not Post.objects.get(pk=post.pk).hidden


def test_a_viewer_without_the_moderate_permission_sees_no_actions(client, make_user, other_user, make_post):
    from django.contrib.auth.models import Permission

    viewer = make_user("viewer@example.com", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_reportedpost"))
    post = make_post(title="look only")
    report(post, other_user)
    client.force_login(viewer)
    page = client.get(QUEUE).content.decode()
    assert ">look only<" in page
    assert 'name="action"' not in page
    act(client, "hide", post, reason="no")
    assert not Post.objects.get(pk=post.pk).hidden


def test_the_record_is_read_only_and_outlives_reports_and_posts(
    mod_client, admin_client, other_user, make_post
):
    post = make_post(title="short-lived")
    report(post, other_user)
    act(mod_client, "dismiss", post, reason="fine")
    record = ModerationAction.objects.get()
    for client in (mod_client, admin_client):  # superusers included
        assert client.get(RECORD).status_code == 200
        page = client.get(f"{RECORD}{record.pk}/change/").content.decode()
        assert "short-lived" in page and 'type="submit"' not in page.split('id="content-main"')[1]
        assert client.post(f"{RECORD}{record.pk}/delete/").status_code == 403
        assert client.get(f"{RECORD}add/").status_code == 403
    post.delete()
    assert not Report.objects.exists()
    record.refresh_from_db()
    assert (record.post, record.reason) == (None, "fine")
    assert "short-lived" in record.subject


def fill(make_user, make_post, count: int) -> None:
    for _ in range(count):
        post = make_post(owner=make_user())
        report(post, make_user(), make_user(), note="see this")


@pytest.mark.parametrize("query", [{}, {"o": "-3"}, {"state": "hidden"}, {"state": "all"}])
def test_the_queue_runs_the_same_queries_for_one_row_or_a_full_page(
    mod_client, moderator, make_user, make_post, query
):
    fill(make_user, make_post, 1)
    services.hide(moderator=moderator, posts=Post.objects.all(), reason="test")
    with CaptureQueriesContext(connection) as few:
        assert mod_client.get(QUEUE, query).status_code == 200
    fill(make_user, make_post, 12)
    services.hide(moderator=moderator, posts=Post.objects.all(), reason="test")
    with CaptureQueriesContext(connection) as many:
        assert mod_client.get(QUEUE, query).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many]
    assert len(many) <= 8


def test_a_deleted_reporter_takes_their_open_reports_out_of_the_count(mod_client, make_user, make_post):
    post = make_post(title="counted")
    first, second = make_user(), make_user()
    report(post, first, note="first note")
    report(post, second, reason="abuse", note="second note")
    first_at = Report.objects.get(reporter=first).created_at
    second_at = Report.objects.get(reporter=second).created_at
    assert ReportedPost.objects.get(post=post).first_reported_at == first_at
    first.delete()
    entry = ReportedPost.objects.get(post=post)
    assert (entry.open_reports, entry.first_reported_at) == (1, second_at)
    page = mod_client.get(QUEUE).content.decode()
    assert "abuse (1)" in page and "first note" not in page
    second.delete()
    assert ReportedPost.objects.get(post=post).open_reports == 0
    assert ">counted<" not in mod_client.get(QUEUE).content.decode()


def test_deleting_a_reported_post_or_its_author_leaves_the_record(mod_client, make_user, make_post):
    author = make_user()
    post, other = make_post(owner=author, title="one"), make_post(owner=author, title="two")
    report(post, make_user())
    report(other, make_user())
    act(mod_client, "dismiss", post, reason="fine")
    post.delete()
    author.delete()
    assert not ReportedPost.objects.exists() and not Report.objects.exists()
    assert ModerationAction.objects.get().reason == "fine"
