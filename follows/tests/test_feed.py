"""GET /feed (CONTRACT.md §7.5)."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from accounts.models import User
from api.paging import NEXT, PREV
from follows import feed
from follows.feed import FEW_FOLLOWEES, MANY_FOLLOWEES
from follows.models import Follow
from moderation import services
from posts.models import Post
from testing.assertions import assert_error
from testing.clients import client_for

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Followees: the feed's other plans (follows.feed), the walk with a hash and with probes.
MANY, MOST = FEW_FOLLOWEES, MANY_FOLLOWEES
SILENT = {"few": 0, "many": MANY, "most": MOST}


def post(owner, minute: int, **fields) -> Post:
    fields.setdefault("title", f"by {owner.email} at {minute}")
    fields.setdefault("content", "c")
    return Post.objects.create(owner=owner, created_at=T0 + dt.timedelta(minutes=minute), **fields)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["Post"]["id"] for item in response.json()]


def links(response) -> dict[str, str]:
    found = {}
    for part in response.headers.get("Link", "").split(", "):
        if part:
            url, rel = part.split("; ")
            found[rel.split('"')[1]] = url.strip("<>").split("testserver", 1)[1]
    return found


def follow_silent_users(user, count: int) -> None:
    """`user` follows `count` more users who never post (to reach the feed's other plan)."""
    silent = User.objects.bulk_create(
        User(email=f"silent{i}@example.com", password="!", security_stamp=f"s{i}") for i in range(count)
    )
    Follow.objects.bulk_create(Follow(follower=user, followee=person) for person in silent)


@pytest.fixture(params=list(SILENT))
def world(request, user, other_user, make_user):
    """`user` follows other_user and `friend`; `stranger` is followed by no one. Run with a
    follower of few users, of MANY more and of MOST more (each of the feed's plans)."""
    friend, stranger = make_user(), make_user()
    Follow.objects.create(follower=user, followee=other_user)
    Follow.objects.create(follower=user, followee=friend)
    Follow.objects.create(follower=stranger, followee=user)
    if SILENT[request.param]:
        follow_silent_users(user, SILENT[request.param])
    return {"friend": friend, "stranger": stranger}


def hide(post: Post, make_user) -> None:
    moderator = make_user(is_staff=True)
    assert services.hide(moderator=moderator, posts=[post], reason="spam") == 1


def test_feed_is_own_and_followees_published_posts_newest_first(
    auth_client, user, other_user, world, make_user
):
    friend, stranger = world["friend"], world["stranger"]
    mine = post(user, 1)
    post(user, 2, published=False)  # a draft, even one's own, is not in the feed
    theirs = post(other_user, 3)
    post(other_user, 4, published=False)
    tie_a, tie_b = post(friend, 5), post(friend, 5)
    hide(post(friend, 6), make_user)
    post(stranger, 7)
    assert ids(auth_client.get("/feed")) == [tie_b.pk, tie_a.pk, theirs.pk, mine.pk]
    item = auth_client.get("/feed/").json()[0]
    assert item == auth_client.get(f"/posts/{tie_b.pk}").json()  # the PostOut of GET /posts/


def test_feed_pages_by_cursor_and_ignores_skip_search_sort_and_prefer(auth_client, user, other_user, world):
    made = [post(other_user if i % 2 else user, i).pk for i in range(25)]
    newest_first = made[::-1]
    assert ids(auth_client.get("/feed?skip=5&search=zzz&sort=top&limit=10")) == newest_first[:10]
    first = auth_client.get("/feed?limit=10", HTTP_PREFER="count=exact")
    assert "X-Total-Count" not in first.headers
    seen, response = ids(first), first
    while "next" in links(response):
        response = auth_client.get(links(response)["next"])
        seen += ids(response)
    assert seen == newest_first
    assert ids(auth_client.get("/feed?limit=0")) == []
    assert len(ids(auth_client.get("/feed?limit=1000"))) == 25
    assert ids(auth_client.get(links(auth_client.get(links(first)["next"]))["prev"])) == newest_first[:10]


def test_first_page_prev_polls_for_news_with_if_none_match(auth_client, user, other_user, world):
    older = [post(other_user, i).pk for i in range(3)]
    first = auth_client.get("/feed?limit=2")
    assert ids(first) == [older[2], older[1]]
    poll = links(first)["prev"]
    empty = auth_client.get(poll)
    assert ids(empty) == []
    assert auth_client.get(poll, HTTP_IF_NONE_MATCH=empty.headers["ETag"]).status_code == 304
    news = [post(world["friend"], 10 + i).pk for i in range(3)]
    answered = auth_client.get(poll, HTTP_IF_NONE_MATCH=empty.headers["ETag"])
    # The up to `limit` posts just newer than the page, newest first, and a prev for the rest.
    assert ids(answered) == [news[1], news[0]]
    assert ids(auth_client.get(links(answered)["prev"])) == [news[2]]
    same = auth_client.get("/feed?limit=2")
    assert auth_client.get("/feed?limit=2", HTTP_IF_NONE_MATCH=same.headers["ETag"]).status_code == 304


def test_deactivated_followee_drops_out_at_once_and_comes_back(auth_client, other_user, world):
    theirs = post(other_user, 1).pk
    other_user.is_active = False
    other_user.save()
    assert theirs not in ids(auth_client.get("/feed"))
    other_user.is_active = True
    other_user.save()
    assert ids(auth_client.get("/feed")) == [theirs]


def test_unfollow_and_hide_drop_posts_at_once(auth_client, user, other_user, world, make_user):
    theirs, friends = post(other_user, 1).pk, post(world["friend"], 2)
    assert ids(auth_client.get("/feed")) == [friends.pk, theirs]
    auth_client.delete(f"/users/{other_user.pk}/follow")
    hide(friends, make_user)
    assert ids(auth_client.get("/feed")) == []


def test_bad_query_is_422_and_no_token_401(auth_client, api_client):
    assert_error(auth_client.get("/feed?limit=-1"), 422, loc=["query", "limit"])
    assert_error(auth_client.get("/feed?limit=1.5"), 422, loc=["query", "limit"])
    assert_error(auth_client.get("/feed?cursor=nonsense"), 422, loc=["query", "cursor"])
    assert_error(api_client.get("/feed"), 401, "Not authenticated")


def test_a_posts_list_cursor_is_refused_by_the_feed(auth_client, user):
    post(user, 1), post(user, 2)
    cursor = links(auth_client.get("/posts/?limit=1"))["next"].split("cursor=")[1]
    assert_error(auth_client.get(f"/feed?cursor={cursor}"), 422, loc=["query", "cursor"])


@pytest.mark.parametrize("followees", [1, 30, MANY, MOST])
def test_feed_query_count_is_fixed(user, make_user, followees, django_assert_num_queries):
    follow_silent_users(user, followees - 1)
    author = make_user()
    Follow.objects.create(follower=user, followee=author)
    made = [post(author, i).pk for i in range(15)]
    client = client_for(user)
    with django_assert_num_queries(2):  # the caller (authentication), the page
        first = client.get("/feed?limit=10")
    assert ids(first) == made[::-1][:10]
    with django_assert_num_queries(2):
        assert ids(client.get(links(first)["next"])) == made[::-1][10:]


@pytest.mark.django_db(transaction=True)
def test_deactivation_racing_feed_reads_never_leaks_a_post(user, other_user):
    """Readers poll the feed while the followee is deactivated: no read that starts after the
    deactivation committed holds the followee's posts. (A read that starts before it may run
    its query after it, and see either: the check that reads do see the posts while the
    followee is active counts only the reads that ended before the save began.)"""
    Follow.objects.create(follower=user, followee=other_user)
    theirs = {post(other_user, i).pk for i in range(5)}
    committed_at: list[float] = []
    reads: list[tuple[float, float, bool]] = []  # started, ended, held the followee's posts
    stop = threading.Event()

    def read() -> None:
        client = client_for(user)
        try:
            while not stop.is_set():
                started = time.monotonic()
                leaked = bool(theirs & set(ids(client.get("/feed?limit=100"))))
                reads.append((started, time.monotonic(), leaked))
        finally:
            connection.close()

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 30
    while len(reads) < 6 and time.monotonic() < deadline:  # every reader warm, on a slow machine too
        time.sleep(0.05)
    saving_at = time.monotonic()
    other_user.is_active = False
    other_user.save()
    committed_at.append(time.monotonic())
    time.sleep(0.3)
    stop.set()
    for reader in readers:
        reader.join()
    before = [leaked for _, ended, leaked in reads if ended < saving_at]
    after = [leaked for started, _, leaked in reads if started > committed_at[0]]
    assert before and after
    assert all(before)  # the reads saw the posts while the followee was active
    assert not any(after)


def test_an_empty_first_page_polls_from_the_oldest_post(auth_client, other_user, world):
    first = auth_client.get("/feed?limit=2")
    assert ids(first) == []
    poll = links(first)["prev"]
    empty = auth_client.get(poll)
    assert ids(empty) == []
    assert auth_client.get(poll, HTTP_IF_NONE_MATCH=empty.headers["ETag"]).status_code == 304
    made = [post(other_user, i).pk for i in range(3)]
    answered = auth_client.get(poll, HTTP_IF_NONE_MATCH=empty.headers["ETag"])
    assert ids(answered) == [made[1], made[0]]
    assert ids(auth_client.get(links(answered)["prev"])) == [made[2]]


@pytest.mark.parametrize("plan", ["merge", "hash", "search"])
def test_each_plan_gives_the_same_pages(auth_client, user, other_user, world, make_user, monkeypatch, plan):
    """follows.feed's three plans, each forced by its thresholds (whatever the follows would
    choose): the same pages, newest first and back, of the same posts; drafts, hidden posts,
    strangers' and deactivated authors' posts left out alike."""
    few, many = {"merge": (10**9, 10**9), "hash": (0, 10**9), "search": (0, 0)}[plan]
    monkeypatch.setattr(feed, "FEW_FOLLOWEES", few)
    monkeypatch.setattr(feed, "MANY_FOLLOWEES", many)
    friend, gone = world["friend"], make_user()
    Follow.objects.create(follower=user, followee=gone)
    made = [post((other_user, friend, user)[i % 3], i) for i in range(12)]
    post(user, 20, published=False)
    hide(made[4], make_user)
    post(world["stranger"], 21)
    post(gone, 22)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    shown = [p.pk for p in made[::-1] if p != made[4]]

    response, pages = auth_client.get("/feed?limit=4"), []
    pages.append(ids(response))
    while "next" in links(response):
        response = auth_client.get(links(response)["next"])
        pages.append(ids(response))
    assert [pk for page in pages for pk in page] == shown
    assert ids(auth_client.get(links(response)["prev"])) == shown[-len(pages[-1]) - 4 : -len(pages[-1])]


@pytest.mark.parametrize("direction", [NEXT, PREV])
def test_a_page_is_its_ids_posts(user, other_user, direction):
    """feed_page's one statement gives feed_posts(feed_ids(...)), the two queries bench/feed.py
    times apart, from every position, in both directions, ties of created_at included."""
    Follow.objects.create(follower=user, followee=other_user)
    made = [post((user, other_user)[i % 2], i // 3) for i in range(9)]  # three posts a minute
    post(other_user, 30, published=False)
    newest_first = sorted(made, key=lambda p: (p.created_at, p.pk), reverse=True)
    whole = feed.feed_page(user.pk, position=None, direction=direction, limit=20)
    assert [p.pk for p in whole] == [
        p.pk for p in (newest_first if direction == NEXT else newest_first[::-1])
    ]
    for position in [None, *((made_post.created_at, made_post.pk) for made_post in made)]:
        for limit in (0, 1, 4, 20):
            asked = {"position": position, "direction": direction, "limit": limit}
            halves = feed.feed_posts(feed.feed_ids(user.pk, **asked))
            page = feed.feed_page(user.pk, **asked)
            assert [p.pk for p in page] == [p.pk for p in halves]
            assert [p.vote_count for p in page] == [p.vote_count for p in halves]
