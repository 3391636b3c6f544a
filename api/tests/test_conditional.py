"""ETag, If-None-Match, If-Match and private caching, over real HTTP (docs/api.md, "HTTP semantics")."""

import http.client
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.tokens import AccessToken
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)

STRONG_ETAG = re.compile(r'^"[0-9a-f]{32}"$')
PRECONDITION_FAILED = {"detail": "Precondition Failed"}


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def post(owner):
    return Post.objects.create(owner=owner, title="first", content="text")


def vary(answer) -> list[str]:
    return [name.strip() for name in answer.headers.get("Vary", "").split(",")]


def etag(call, user, path: str) -> str:
    answer = call("GET", path, user=user)
    assert answer.status == 200
    return answer.headers["ETag"]


@pytest.mark.parametrize("path", ["/posts/{id}", "/posts/"])
def test_reads_carry_a_strong_etag_and_304_when_it_matches(call, owner, post, path):
    path = path.format(id=post.pk)
    first = call("GET", path, user=owner)
    assert STRONG_ETAG.match(first.headers["ETag"])
    assert call("GET", path, user=owner).headers["ETag"] == first.headers["ETag"]
    cached = call("GET", path, user=owner, headers={"If-None-Match": f'"other", {first.headers["ETag"]}'})
    assert cached.status == 304
    assert cached.body == b""
    assert cached.headers["ETag"] == first.headers["ETag"]
    assert cached.headers["Cache-Control"] == "private"
    assert "Authorization" in vary(cached)
    assert call("GET", path, user=owner, headers={"If-None-Match": '"other"'}).body == first.body


def test_if_none_match_star_is_304_and_a_stale_if_match_on_a_read_412(call, owner, post):
    assert call("GET", f"/posts/{post.pk}", user=owner, headers={"If-None-Match": "*"}).status == 304
    answer = call("GET", f"/posts/{post.pk}", user=owner, headers={"If-Match": '"stale"'})
    assert (answer.status, answer.json()) == (412, PRECONDITION_FAILED)
    missing = call("GET", f"/posts/{post.pk + 1000}", user=owner, headers={"If-None-Match": "*"})
    assert missing.status == 404


@pytest.mark.parametrize("path", ["/posts/{id}", "/posts/"])
def test_etag_changes_with_the_body(call, owner, make_user, post, path):
    path = path.format(id=post.pk)
    before = etag(call, owner, path)
    Vote.objects.create(user=make_user(), post=post)
    after = call("GET", path, user=owner, headers={"If-None-Match": before})
    assert after.status == 200
    assert after.headers["ETag"] != before
    assert after.json() != []


def test_drafts_make_the_list_etag_differ_per_caller(call, owner, make_user, post):
    Post.objects.create(owner=owner, title="draft", content="c", published=False)
    assert etag(call, owner, "/posts/") != etag(call, make_user(), "/posts/")


def test_authenticated_reads_are_private_and_vary_by_authorization(call, owner, post):
    for path in ("/posts/", f"/posts/{post.pk}", "/users/me"):
        answer = call("GET", path, user=owner)
        assert answer.headers["Cache-Control"] == "private", path
        assert "Authorization" in vary(answer), path
    assert "Authorization" in vary(call("GET", "/posts/"))  # a 401: it differs by token too
    public = call("GET", f"/users/{owner.pk}")
    assert "Cache-Control" not in public.headers


@pytest.mark.parametrize(
    ("method", "body"),
    [("PUT", {"title": "new", "content": "new"}), ("PATCH", {"title": "new"}), ("DELETE", None)],
)
def test_stale_if_match_is_412_and_changes_nothing(call, owner, make_user, post, method, body):
    stale = etag(call, owner, f"/posts/{post.pk}")
    Vote.objects.create(user=make_user(), post=post)  # the post as GET shows it has changed
    answer = call(method, f"/posts/{post.pk}", user=owner, json_body=body, headers={"If-Match": stale})
    assert answer.status == 412
    assert answer.json() == PRECONDITION_FAILED
    assert Post.objects.values_list("title", "content").get(pk=post.pk) == ("first", "text")


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [
        ("PUT", {"title": "new", "content": "new"}, 200),
        ("PATCH", {"title": "new"}, 200),
        ("DELETE", None, 204),
    ],
)
def test_current_if_match_or_star_lets_the_write_through(call, owner, post, method, body, status):
    current = etag(call, owner, f"/posts/{post.pk}")
    answer = call(
        method, f"/posts/{post.pk}", user=owner, json_body=body, headers={"If-Match": f'"x", {current}'}
    )
    assert answer.status == status
    assert Post.objects.filter(pk=post.pk, title="first").exists() is False
    other = Post.objects.create(owner=owner, title="second", content="c")
    assert (
        call(method, f"/posts/{other.pk}", user=owner, json_body=body, headers={"If-Match": "*"}).status
        == status
    )


def test_weak_etag_never_matches_if_match(call, owner, post):
    weak = "W/" + etag(call, owner, f"/posts/{post.pk}")
    answer = call(
        "PATCH", f"/posts/{post.pk}", user=owner, json_body={"title": "x"}, headers={"If-Match": weak}
    )
    assert answer.status == 412


def test_404_then_403_come_before_412(call, owner, make_user, post):
    stale = {"If-Match": '"stale"'}
    missing = call("DELETE", f"/posts/{post.pk + 1000}", user=owner, headers=stale)
    assert (missing.status, missing.json()) == (
        404,
        {"detail": f"post with id: {post.pk + 1000} does not exist"},
    )
    draft = Post.objects.create(owner=owner, title="draft", content="c", published=False)
    intruder = make_user()
    assert call("PATCH", f"/posts/{draft.pk}", user=intruder, json_body={}, headers=stale).status == 404
    answer = call(
        "PUT", f"/posts/{post.pk}", user=intruder, json_body={"title": "t", "content": "c"}, headers=stale
    )
    assert (answer.status, answer.json()) == (403, {"detail": "Not authorized to perform requested action"})


def test_a_bad_body_is_422_whatever_its_if_match(call, owner, post):
    answer = call(
        "PATCH", f"/posts/{post.pk}", user=owner, json_body={"title": 7}, headers={"If-Match": '"stale"'}
    )
    assert answer.status == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "title"]


def test_an_empty_if_match_is_no_condition(call, owner, post):
    answer = call(
        "PATCH", f"/posts/{post.pk}", user=owner, json_body={"title": "new"}, headers={"If-Match": ""}
    )
    assert answer.status == 200


def test_of_writers_holding_one_etag_exactly_one_wins(call, owner, post):
    held = etag(call, owner, f"/posts/{post.pk}")

    def write(i: int):
        return call(
            "PATCH",
            f"/posts/{post.pk}",
            user=owner,
            json_body={"title": f"writer {i}"},
            headers={"If-Match": held},
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(write, range(8)))
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [200] + [412] * 7
    [winner] = [answer for answer in answers if answer.status == 200]
    assert Post.objects.get(pk=post.pk).title == winner.json()["title"]


def test_delete_and_write_holding_one_etag_exactly_one_wins(call, owner, post):
    held = {"If-Match": etag(call, owner, f"/posts/{post.pk}")}
    with ThreadPoolExecutor(2) as pool:
        deleted = pool.submit(call, "DELETE", f"/posts/{post.pk}", user=owner, headers=held)
        patched = pool.submit(
            call, "PATCH", f"/posts/{post.pk}", user=owner, json_body={"title": "t"}, headers=held
        )
        statuses = {deleted.result().status, patched.result().status}
    # Either may win; the loser finds the post changed (412) or gone (404).
    assert statuses in ({204, 412}, {204, 404}, {200, 412})
    if 204 in statuses:
        assert not Post.objects.filter(pk=post.pk).exists()
    else:
        assert Post.objects.get(pk=post.pk).title == "t"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", ["/posts/{id}", "/posts/"])
def test_a_304_carries_no_content_length_but_the_200s(call, owner, post, path, method):
    """RFC 9110 §8.6: a 304's Content-Length, if sent, is the 200's (here it was 0)."""
    path = path.format(id=post.pk)
    first = call(method, path, user=owner)
    cached = call(method, path, user=owner, headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status == 304 and cached.body == b""
    assert (
        cached.headers.get("Content-Length", first.headers["Content-Length"])
        == first.headers["Content-Length"]
    )
    assert "Transfer-Encoding" not in cached.headers


def test_if_none_match_sent_twice_is_one_list(server, owner, post):
    """A list header repeated is the list of both (RFC 9110 §5.3): either ETag matches."""
    token = str(AccessToken.for_user(owner))
    first = server.request("GET", f"/posts/{post.pk}", token=token)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection.putrequest("GET", f"/posts/{post.pk}")
        connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("If-None-Match", '"other"')
        connection.putheader("If-None-Match", first.headers["ETag"])
        connection.endheaders()
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (304, b"")
    finally:
        connection.close()
