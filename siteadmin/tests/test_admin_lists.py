"""The three admin lists: who may see them, and what each page load costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.models import Post
from siteadmin.lists import LargeTablePaginator
from votes.models import Vote

pytestmark = pytest.mark.django_db

LISTS = ["/admin/accounts/user/", "/admin/posts/post/", "/admin/votes/vote/"]


def fill(make_user, count: int) -> None:
    """`count` users, each with a post that every one of them voted on."""
    users = [make_user(f"filler{len(str(count))}-{i}@example.com") for i in range(count)]
    posts = Post.objects.bulk_create([Post(owner=u, title=f"post {u.pk}", content="c") for u in users])
    Vote.objects.bulk_create([Vote(user=u, post=p) for u in users for p in posts])


def test_staff_see_all_three_lists(admin_client, make_user):
    fill(make_user, 1)
    for url, shown in zip(LISTS, ["filler1-0@example.com", "post ", "filler1-0@example.com"], strict=True):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert 'id="result_list"' in response.content.decode(), url
        assert shown in response.content.decode(), url


def test_staff_with_view_permissions_see_all_three_lists(client, make_user):
    from django.contrib.auth.models import Permission

    moderator = make_user("moderator@example.com", is_staff=True)
    moderator.user_permissions.set(
        Permission.objects.filter(codename__in=["view_user", "view_post", "view_vote"])
    )
    client.force_login(moderator)
    for url in LISTS:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("url", LISTS)
def test_a_user_who_is_not_staff_is_refused(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    # And the login page will not let them in either.
    response = client.post("/admin/login/", {"username": user.email, "password": "password123"})
    assert response.status_code == 200
    assert b"staff account" in response.content


@pytest.mark.parametrize("url", LISTS)
def test_staff_without_permissions_are_refused(client, make_user, url):
    client.force_login(make_user("new-staff@example.com", is_staff=True))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", LISTS)
def test_a_list_runs_the_same_queries_for_one_row_or_a_full_page(admin_client, make_user, url):
    fill(make_user, 1)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    fill(make_user, 12)  # 12 more users and posts, 144 more votes
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many]
    assert len(many) <= 6


@pytest.mark.parametrize("url", LISTS)
def test_a_list_never_counts_the_whole_table(admin_client, make_user, monkeypatch, url):
    monkeypatch.setattr(LargeTablePaginator, "exact_count_limit", 5)
    fill(make_user, 8)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user, posts_post, votes_vote")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(")]
    assert counts and all("LIMIT 6" in sql for sql in counts), counts
    assert any(q["sql"].startswith("EXPLAIN") for q in queries)
    # The planner's estimate (exact, just after ANALYZE) is what the page shows.
    total = {"user": 9, "post": 8, "vote": 64}[url.split("/")[3]]
    assert f"{total} " in response.content.decode()
