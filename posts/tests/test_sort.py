"""GET /posts/?sort=: new (the default) or top (most votes first, then newest)."""

import pytest

from votes.models import Vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def ranked(make_user, make_post):
    """Posts created oldest first: a (1 vote), b (3), c (0), d (3), e (1)."""
    posts = {name: make_post(title=name) for name in "abcde"}
    voters = [make_user() for _ in range(3)]
    for name, n in {"a": 1, "b": 3, "d": 3, "e": 1}.items():
        for voter in voters[:n]:
            Vote.objects.create(user=voter, post=posts[name])
    return posts


def titles(client, query=""):
    response = client.get(f"/posts/?{query}")
    assert response.status_code == 200
    return [(item["Post"]["title"], item["votes"]) for item in response.json()]


def test_top_is_most_votes_first_then_newest(auth_client, ranked):
    # Created in one transaction, the posts share created_at, so "newest" falls to the id.
    assert titles(auth_client, "sort=top") == [("d", 3), ("b", 3), ("e", 1), ("a", 1), ("c", 0)]


def test_top_breaks_ties_by_created_at_before_id(auth_client, ranked):
    from datetime import timedelta

    from django.utils import timezone

    from posts.models import Post

    # b becomes newer than d: it now wins their tie, though its id is lower.
    Post.objects.filter(pk=ranked["b"].pk).update(created_at=timezone.now() + timedelta(minutes=1))
    assert [t for t, _ in titles(auth_client, "sort=top")][:2] == ["b", "d"]


def test_new_is_the_default(auth_client, ranked):
    newest_first = [("e", 1), ("d", 3), ("c", 0), ("b", 3), ("a", 1)]
    assert titles(auth_client) == newest_first
    assert titles(auth_client, "sort=new") == newest_first


def test_top_pages_without_gaps_or_repeats(auth_client, ranked):
    pages = [titles(auth_client, f"sort=top&limit=2&skip={skip}") for skip in (0, 2, 4)]
    assert [t for page in pages for t, _ in page] == ["d", "b", "e", "a", "c"]


def test_top_combines_with_search_and_hides_others_drafts(auth_client, other_user, make_post, ranked):
    make_post(owner=other_user, title="their draft d", published=False)
    assert titles(auth_client, "sort=top&search=D") == [("d", 3)]


@pytest.mark.parametrize("value", ["best", "TOP", "votes", "top%00"])
def test_other_sort_values_are_422(auth_client, value):
    response = auth_client.get(f"/posts/?sort={value}")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "sort"]


def test_top_runs_two_queries_whatever_the_page_size(auth_client, ranked, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert len(auth_client.get("/posts/?sort=top&limit=100").json()) == 5
