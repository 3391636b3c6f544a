import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from posts.models import Post
from votes import counter
from votes.models import Vote, VoteDelta

pytestmark = pytest.mark.django_db

POSTS = "/admin/posts/post/"
USERS = "/admin/accounts/user/"


def titles(page: str, candidates: list[str]) -> list[str]:
    """The candidate titles the page shows, in the order it shows them."""
    shown = [t for t in candidates if f">{t}<" in page]
    return sorted(shown, key=lambda t: page.index(f">{t}<"))


def test_post_list_columns(admin_client, user, other_user, make_post):
    post = make_post(title="First words", published=False)
    Vote.objects.create(user=other_user, post=post)
    page = admin_client.get(POSTS).content.decode()
    for column in ("Title", "Owner", "Published", "Votes", "Created at"):
        assert f">{column}<" in page.replace("</a>", "<"), column
    row = page[page.index("First words") :].split("</tr>")[0]
    assert user.email in row
    assert 'alt="False"' in row  # the unpublished icon
    assert ">1<" in row  # one vote


def test_post_list_and_page_count_a_pending_vote_delta(admin_client, user, other_user, make_post):
    post = make_post(title="pending")
    Vote.objects.create(user=user, post=post)
    # A vote written while another voter held the post's row: a delta, not yet in vote_total.
    with transaction.atomic(), counter.suspended():
        Vote.objects.create(user=other_user, post=post)
        VoteDelta.objects.create(post=post, delta=1)
    page = admin_client.get(POSTS).content.decode()
    row = page[page.index(">pending<") :].split("</tr>")[0]
    assert ">2<" in row
    page = admin_client.get(f"{POSTS}{post.pk}/change/").content.decode()
    assert '<div class="readonly">2</div>' in page


def test_post_list_sorts_by_vote_count(admin_client, user, other_user, make_post):
    _, loud, middle = make_post(title="quiet"), make_post(title="loud"), make_post(title="middle")
    Vote.objects.bulk_create([Vote(user=user, post=loud), Vote(user=other_user, post=loud)])
    Vote.objects.create(user=user, post=middle)
    page = admin_client.get(POSTS, {"o": "-4"}).content.decode()
    assert titles(page, ["quiet", "loud", "middle"]) == ["loud", "middle", "quiet"]


def test_post_search_by_title_content_and_owner_email(admin_client, user, other_user, make_post):
    make_post(title="apple pie", content="sweet")
    make_post(title="bread", content="with APPLE jam")
    make_post(owner=other_user, title="soup", content="hot")
    everything = ["apple pie", "bread", "soup"]
    assert titles(admin_client.get(POSTS, {"q": "apple"}).content.decode(), everything) == [
        "bread",
        "apple pie",
    ]
    assert titles(admin_client.get(POSTS, {"q": "other@"}).content.decode(), everything) == ["soup"]


def test_post_filters_by_published_and_date(admin_client, make_post):
    make_post(title="draft", published=False)
    old = make_post(title="old news")
    Post.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    make_post(title="today")
    everything = ["draft", "old news", "today"]
    drafts = admin_client.get(POSTS, {"published__exact": "0"}).content.decode()
    assert titles(drafts, everything) == ["draft"]
    since = (timezone.now() - datetime.timedelta(days=7)).isoformat()
    recent = admin_client.get(POSTS, {"created_at__gte": since}).content.decode()
    assert titles(recent, everything) == ["today", "draft"]
    assert "By published" in drafts and "By created at" in drafts


def test_owner_is_picked_by_autocomplete_not_a_list_of_every_user(admin_client, make_user, make_post):
    post = make_post()
    bystanders = [make_user(f"bystander{i}@example.com") for i in range(3)]
    page = admin_client.get(f"{POSTS}{post.pk}/change/").content.decode()
    assert 'class="admin-autocomplete' in page
    assert all(b.email not in page for b in bystanders)
    found = admin_client.get(
        "/admin/autocomplete/",
        {"term": "bystander1", "app_label": "posts", "model_name": "post", "field_name": "owner"},
    ).json()
    assert [item["text"] for item in found["results"]] == ["bystander1@example.com"]


def test_staff_move_a_post_to_another_owner(admin_client, other_user, make_post):
    post = make_post(title="moved")
    response = admin_client.post(
        f"{POSTS}{post.pk}/change/",
        {"title": "moved", "content": "c", "published": "on", "owner": other_user.pk},
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.owner == other_user


@pytest.mark.parametrize(
    ("action", "before", "after"), [("publish", False, True), ("unpublish", True, False)]
)
def test_bulk_publish_and_unpublish(admin_client, make_post, action, before, after):
    chosen = [make_post(published=before), make_post(published=before)]
    untouched = make_post(published=before)
    response = admin_client.post(POSTS, {"action": action, "_selected_action": [p.pk for p in chosen]})
    assert response.status_code == 302
    assert [p.published for p in Post.objects.filter(pk__in=[p.pk for p in chosen])] == [after, after]
    untouched.refresh_from_db()
    assert untouched.published is before


def test_add_page_shows_no_unsaved_database_defaults(admin_client):
    page = admin_client.get(POSTS + "add/").content.decode()
    assert "DatabaseDefault" not in page
    assert 'name="title"' in page


def test_long_titles_are_shortened_in_the_list(admin_client, make_post):
    long_title = "A very long title " * 20
    post = make_post(title=long_title)
    page = admin_client.get(POSTS).content.decode()
    cell = page[page.index('class="field-short_title"') :].split("</th>")[0]
    assert long_title[:70] in cell
    assert long_title.strip() not in cell
    assert len(cell) < 200
    # The change page still has the whole title.
    assert long_title.strip() in admin_client.get(f"{POSTS}{post.pk}/change/").content.decode()


def test_user_list_shows_email_staff_flag_joined_date_and_post_count(admin_client, user, make_post):
    make_post(owner=user)
    make_post(owner=user)
    page = admin_client.get(USERS).content.decode()
    for column in ("Email address", "Staff status", "Date joined", "Posts"):
        assert f">{column}<" in page.replace("</a>", "<"), column
    row = page[page.index(user.email) :].split("</tr>")[0]
    assert ">2<" in row


def test_user_list_sorts_by_post_count(admin_client, make_user, make_post):
    a, b, c = make_user("a@example.com"), make_user("b@example.com"), make_user("c@example.com")
    make_post(owner=a)
    make_post(owner=a)
    make_post(owner=c)
    # By email a, b, c; newest first c, b, a; by post count, most first: a, c, b.
    page = admin_client.get(USERS, {"o": "-4"}).content.decode()
    assert page.index(a.email) < page.index(c.email) < page.index(b.email)
