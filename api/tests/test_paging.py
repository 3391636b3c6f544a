"""Link headers with keyset cursors, and Prefer: count=exact, over real HTTP (docs/api.md, "HTTP semantics")."""

import functools
import operator
import re
import urllib.parse

import pytest
from django.core import signing

from api.paging import SALT
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def links(answer) -> dict[str, str]:
    """rel -> path and query of each link in the answer's Link header."""
    found = {}
    for url, rel in LINK.findall(answer.headers.get("Link", "")):
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "http" and parts.netloc.startswith("127.0.0.1:")
        found[rel] = f"{parts.path}?{parts.query}"
    return found


def ids(answer) -> list[int]:
    return [item["Post"]["id"] for item in answer.json()]


def walk(call, user, path: str, rel: str = "next", limit: int = 100) -> list[list[int]]:
    pages = []
    while path and len(pages) < limit:
        answer = call("GET", path, user=user)
        assert answer.status == 200, answer.body
        pages.append(ids(answer))
        path = links(answer).get(rel)
    return pages


def make_posts(owner, count: int, **fields) -> list[Post]:
    return [Post.objects.create(owner=owner, title=f"post {i}", content="c", **fields) for i in range(count)]


def test_next_links_visit_every_post_once_newest_first(call, make_user):
    user = make_user()
    posts = make_posts(user, 11)
    pages = walk(call, user, "/posts/?limit=3")
    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert functools.reduce(operator.iadd, pages, []) == [post.pk for post in reversed(posts)]


def test_first_page_has_no_prev_and_last_page_no_next(call, make_user):
    user = make_user()
    make_posts(user, 4)
    first = call("GET", "/posts?limit=2", user=user)
    assert set(links(first)) == {"next"}
    assert links(first)["next"].startswith("/posts?")  # the spelling the client used
    second = call("GET", links(first)["next"], user=user)
    assert set(links(second)) == {"prev"}
    back = call("GET", links(second)["prev"], user=user)
    assert ids(back) == ids(first)
    assert set(links(back)) == {"next"}


def test_prev_links_walk_back_over_the_same_pages(call, make_user):
    user = make_user()
    make_posts(user, 7)
    forward = walk(call, user, "/posts/?limit=3")
    last = call("GET", "/posts/?limit=3&skip=6", user=user)
    assert ids(last) == forward[-1]
    backward = walk(call, user, links(last)["prev"], rel="prev")
    assert backward == forward[-2::-1]


def test_walk_sees_each_post_once_while_posts_are_added_and_deleted(call, make_user):
    user = make_user()
    posts = make_posts(user, 9)  # newest first: 8, 7, ..., 0
    first = call("GET", "/posts/?limit=3", user=user)
    seen = ids(first)
    make_posts(user, 2)  # newer than every post: they belong before the walk's position
    Post.objects.filter(pk__in=[posts[8].pk, posts[7].pk]).delete()  # already seen
    Post.objects.filter(pk=posts[3].pk).delete()  # not seen yet
    pages = walk(call, user, links(first)["next"])
    seen += functools.reduce(operator.iadd, pages, [])
    assert seen == [post.pk for post in reversed(posts) if post.pk != posts[3].pk]


def test_top_walk_follows_votes_then_newest(call, make_user):
    user, voters = make_user(), [make_user() for _ in range(3)]
    posts = make_posts(user, 6)
    for post, count in zip(posts, [0, 2, 3, 2, 0, 1], strict=True):
        for voter in voters[:count]:
            Vote.objects.create(user=voter, post=post)
    pages = walk(call, user, "/posts/?limit=2&sort=top")
    assert functools.reduce(operator.iadd, pages, []) == [posts[i].pk for i in (2, 3, 1, 5, 4, 0)]
    assert all(
        "sort=top" in url for url in links(call("GET", "/posts/?limit=2&sort=top", user=user)).values()
    )


def test_cursor_keeps_search_and_limit(call, make_user):
    user = make_user()
    wanted = [Post.objects.create(owner=user, title=f"Django {i}", content="c") for i in range(5)]
    make_posts(user, 5)
    pages = walk(call, user, "/posts/?limit=2&search=django")
    assert [len(page) for page in pages] == [2, 2, 1]
    assert functools.reduce(operator.iadd, pages, []) == [post.pk for post in reversed(wanted)]


def test_skip_pages_link_on_with_cursors(call, make_user):
    user = make_user()
    posts = make_posts(user, 6)
    page = call("GET", "/posts/?limit=2&skip=2", user=user)
    assert ids(page) == [posts[3].pk, posts[2].pk]
    assert "skip" not in links(page)["next"]
    assert ids(call("GET", links(page)["next"], user=user)) == [posts[1].pk, posts[0].pk]
    assert ids(call("GET", links(page)["prev"], user=user)) == [posts[5].pk, posts[4].pk]


def test_others_drafts_are_never_paged_to(call, make_user):
    user, other = make_user(), make_user()
    mine = make_posts(user, 3, published=False)
    make_posts(other, 3, published=False)
    assert functools.reduce(operator.iadd, walk(call, user, "/posts/?limit=1"), []) == [
        post.pk for post in reversed(mine)
    ]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "eyJvIjoibmV3In0:1tAAAA:forged",
        signing.dumps({"o": "new", "d": "next", "p": ["2026-01-01T00:00:00+00:00", 1]}, salt="another.salt"),
        signing.dumps(
            {"o": "new", "d": "next", "p": ["2026-01-01T00:00:00+00:00", 1]}, key="x" * 50, salt=SALT
        ),
        signing.dumps({"o": "new", "d": "sideways", "p": ["2026-01-01T00:00:00+00:00", 1]}, salt=SALT),
        signing.dumps({"o": "new", "d": "next", "p": ["yesterday", 1]}, salt=SALT),
        signing.dumps({"o": "new", "d": "next", "p": [1]}, salt=SALT),
        signing.dumps({"o": "old", "d": "next", "p": ["2026-01-01T00:00:00+00:00", 1]}, salt=SALT),
        signing.dumps(["new"], salt=SALT),
        "",
    ],
)
def test_malformed_or_foreign_cursor_is_422(call, make_user, cursor):
    answer = call("GET", f"/posts/?cursor={urllib.parse.quote(cursor)}", user=make_user())
    assert answer.status == 422
    assert [error["loc"] for error in answer.json()["detail"]] == [["query", "cursor"]]


def test_cursor_of_one_sort_is_refused_by_the_other(call, make_user):
    user = make_user()
    make_posts(user, 3)
    top_next = links(call("GET", "/posts/?limit=1&sort=top", user=user))["next"]
    answer = call("GET", top_next.replace("sort=top", "sort=new"), user=user)
    assert answer.status == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_exact_count_only_when_asked(call, make_user):
    user, other = make_user(), make_user()
    make_posts(user, 3, published=False)  # the caller's drafts count for the caller
    make_posts(other, 4)
    make_posts(other, 5, published=False)
    Post.objects.create(owner=other, title="A needle", content="c")
    plain = call("GET", "/posts/?limit=2", user=user)
    assert "X-Total-Count" not in plain.headers
    counted = call("GET", "/posts/?limit=2", user=user, headers={"Prefer": "return=minimal, count=exact"})
    assert counted.headers["X-Total-Count"] == "8"
    assert counted.headers["Preference-Applied"] == "count=exact"
    assert counted.body == plain.body
    searched = call("GET", "/posts/?search=NEEDLE", user=user, headers={"Prefer": "count=exact"})
    assert searched.headers["X-Total-Count"] == "1"
    assert (
        call("GET", "/posts/", user=other, headers={"Prefer": "count=exact"}).headers["X-Total-Count"] == "10"
    )


def test_headers_are_exposed_to_cors_front_ends(call, make_user):
    answer = call("GET", "/posts/", user=make_user(), headers={"Origin": "https://app.example.com"})
    exposed = {name.strip().lower() for name in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"link", "x-total-count", "etag", "idempotent-replayed"} <= exposed
