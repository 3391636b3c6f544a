"""GET /posts/{id}/comments: a thread's pages, oldest first (docs/comments.md)."""

import re
import urllib.parse

import pytest

from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def links(answer) -> dict[str, str]:
    return {
        rel: f"{urllib.parse.urlsplit(url).path}?{urllib.parse.urlsplit(url).query}"
        for url, rel in LINK.findall(answer.headers.get("Link", ""))
    }


def cursor_of(answer) -> str:
    """The cursor of the answer's `rel="next"` link."""
    return urllib.parse.parse_qs(urllib.parse.urlsplit(links(answer)["next"]).query)["cursor"][0]


def contents(answer) -> list[str]:
    assert answer.status_code == 200, answer.content
    return [item["content"] for item in answer.json()]


@pytest.fixture
def thread(post, make_comment):
    """c0..c4 at the top, oldest first; c1 has replies r0..r2."""
    top = [make_comment(post, content=f"c{i}") for i in range(5)]
    replies = [make_comment(post, parent=top[1], content=f"r{i}") for i in range(3)]
    return top, replies


def test_top_level_oldest_first_with_replies_counted(auth_client, post, thread):
    answer = auth_client.get(f"/posts/{post.pk}/comments")
    assert contents(answer) == ["c0", "c1", "c2", "c3", "c4"]
    assert [item["reply_count"] for item in answer.json()] == [0, 3, 0, 0, 0]


def test_parent_id_lists_the_direct_replies(auth_client, post, thread):
    top, _ = thread
    assert contents(auth_client.get(f"/posts/{post.pk}/comments/", {"parent_id": top[1].pk})) == [
        "r0",
        "r1",
        "r2",
    ]
    assert contents(auth_client.get(f"/posts/{post.pk}/comments", {"parent_id": top[0].pk})) == []


def test_pages_by_cursor_and_the_last_page_polls_for_new_comments(auth_client, post, thread, make_comment):
    first = auth_client.get(f"/posts/{post.pk}/comments", {"limit": 2})
    assert contents(first) == ["c0", "c1"] and set(links(first)) == {"next"}
    second = auth_client.get(links(first)["next"])
    assert contents(second) == ["c2", "c3"]
    last = auth_client.get(links(second)["next"])
    assert contents(last) == ["c4"] and set(links(last)) == {"next", "prev"}
    assert contents(auth_client.get(links(last)["prev"])) == ["c2", "c3"]
    poll = links(last)["next"]
    empty = auth_client.get(poll)
    assert contents(empty) == []
    assert auth_client.get(poll, headers={"If-None-Match": empty.headers["ETag"]}).status_code == 304
    make_comment(post, content="c5")
    assert contents(auth_client.get(poll, headers={"If-None-Match": empty.headers["ETag"]})) == ["c5"]


def test_a_cursor_is_valid_only_on_its_own_list(auth_client, post, thread, make_post, make_comment):
    top, _ = thread
    top_cursor = cursor_of(auth_client.get(f"/posts/{post.pk}/comments", {"limit": 1}))
    replies_cursor = cursor_of(
        auth_client.get(f"/posts/{post.pk}/comments", {"limit": 1, "parent_id": top[1].pk})
    )
    other = make_post()
    make_comment(other)
    for path, query in [
        (f"/posts/{post.pk}/comments", {"parent_id": top[1].pk, "cursor": top_cursor}),
        (f"/posts/{post.pk}/comments", {"cursor": replies_cursor}),
        (f"/posts/{other.pk}/comments", {"cursor": top_cursor}),
        ("/posts/", {"cursor": top_cursor}),
    ]:
        assert_error(auth_client.get(path, query), 422, loc=["query", "cursor"])


def test_exact_count_limit_zero_and_above_100(auth_client, post, thread):
    counted = auth_client.get(f"/posts/{post.pk}/comments", {"limit": 0}, headers={"Prefer": "count=exact"})
    assert contents(counted) == [] and counted.headers["X-Total-Count"] == "5"
    replies = auth_client.get(
        f"/posts/{post.pk}/comments", {"parent_id": thread[0][1].pk}, headers={"Prefer": "count=exact"}
    )
    assert replies.headers["X-Total-Count"] == "3"
    assert len(auth_client.get(f"/posts/{post.pk}/comments", {"limit": 1000}).json()) == 5


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"limit": -1}, ["query", "limit"]),
        ({"limit": 2**64}, ["query", "limit"]),
        ({"cursor": "nonsense"}, ["query", "cursor"]),
        ({"parent_id": "x"}, ["query", "parent_id"]),
        ({"parent_id": 2**63}, ["query", "parent_id"]),
        ({"parent_id": 999_999}, ["query", "parent_id"]),
    ],
)
def test_bad_query_is_422(auth_client, post, thread, query, loc):
    assert_error(auth_client.get(f"/posts/{post.pk}/comments", query), 422, loc=loc)


def test_parent_on_another_post_is_422(auth_client, post, make_post, make_comment):
    elsewhere = make_comment(make_post())
    answer = auth_client.get(f"/posts/{post.pk}/comments", {"parent_id": elsewhere.pk})
    assert_error(answer, 422, loc=["query", "parent_id"])


def test_a_post_the_caller_cannot_see_is_404_before_the_query(auth_client, make_post, other_user, hide_post):
    draft = make_post(owner=other_user, published=False)
    hidden = make_post(owner=other_user)
    hide_post(hidden)
    for post_id in (draft.pk, hidden.pk, 999_999):
        answer = auth_client.get(f"/posts/{post_id}/comments", {"limit": -1})
        assert_error(answer, 404, f"post with id: {post_id} was not found")


def test_etag_and_private_caching(auth_client, post, thread):
    answer = auth_client.get(f"/posts/{post.pk}/comments")
    assert answer.headers["Cache-Control"] == "private" and "Authorization" in answer.headers["Vary"]
    again = auth_client.get(f"/posts/{post.pk}/comments", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_list_runs_a_fixed_number_of_queries_whatever_the_page_size(
    auth_client, post, thread, make_comment, make_user, django_assert_max_num_queries
):
    top, _ = thread
    for i in range(20):
        make_comment(post, owner=make_user(), content=f"more{i}")
    # The user, the post's visibility, the page (owners joined, reply_count a column).
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(f"/posts/{post.pk}/comments", {"limit": 25}).json()) == 25
    # And the parent's check.
    with django_assert_max_num_queries(4):
        assert len(auth_client.get(f"/posts/{post.pk}/comments", {"parent_id": top[1].pk}).json()) == 3
