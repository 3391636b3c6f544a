"""Follows and the feed under concurrency (CONTRACT.md §7.5), on real threads and a real
PostgreSQL: a follow racing the followee's deactivation, an unfollow while the feed is paged."""

import threading

import pytest

from follows.models import Follow
from follows.tests.test_feed import SILENT, follow_silent_users, ids, links, post
from moderation import services
from testing.clients import client_for
from testing.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def deactivate(moderator, author) -> None:
    """Deactivate `author` as a moderator does (moderation.services, one transaction)."""
    assert services.deactivate_authors(moderator=moderator, posts=[post(author, 0)], reason="spam") == (1, 0)


def feed(client) -> list[int]:
    return ids(client.get("/feed?limit=100"))


def test_follow_racing_deactivation_is_204_or_404_and_never_leaks(user, make_user):
    """Each round, a follow and the followee's deactivation start together. Whichever commits
    first decides: 204 and the follow kept (it comes back with the followee), or 404 and no
    follow. Either way the deactivated followee's posts are not in the feed."""
    moderator = make_user(is_staff=True)
    client = client_for(user)
    outcomes = set()
    for _ in range(8):
        followee = make_user()
        theirs = post(followee, 1).pk
        status, _ = run_at_once(
            [
                lambda f=followee: client.put(f"/users/{f.pk}/follow").status_code,
                lambda f=followee: deactivate(moderator, f),
            ]
        )
        followed = Follow.objects.filter(follower=user, followee=followee).exists()
        assert (status, followed) in {(204, True), (404, False)}
        outcomes.add(status)
        assert theirs not in feed(client)
        followee.is_active = True
        followee.save(update_fields=["is_active"])
        assert (theirs in feed(client)) is followed  # nothing lost: the follow answered 204 holds
    assert outcomes <= {204, 404}


def test_follow_while_deactivation_is_uncommitted_is_kept_and_hidden(user, make_user):
    """The follow commits while the deactivation is still open: 204 (it came first), and from the
    deactivation's commit on the followee's posts leave the feed; reactivated, they come back."""
    followee = make_user()
    theirs = post(followee, 1).pk
    updated, commit = threading.Event(), threading.Event()

    def deactivate_slowly() -> None:
        from django.db import connection, transaction

        try:
            with transaction.atomic():
                followee.is_active = False
                followee.save(update_fields=["is_active"])
                updated.set()
                commit.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=deactivate_slowly)
    thread.start()
    assert updated.wait(10)
    client = client_for(user)
    assert client.put(f"/users/{followee.pk}/follow").status_code == 204
    assert feed(client) == [theirs]  # the deactivation is not committed yet
    commit.set()
    thread.join()
    assert feed(client) == []
    assert client.put(f"/users/{followee.pk}/follow").status_code == 404  # it is now
    followee.is_active = True
    followee.save(update_fields=["is_active"])
    assert feed(client) == [theirs]


@pytest.mark.parametrize("plan", list(SILENT))
def test_unfollow_while_paging_drops_their_posts_from_the_next_page_on(user, make_user, plan):
    """The reader pages by cursor; between two pages another client of the reader unfollows
    one followee (on a thread, its own connection). The next pages carry on: no error, none of
    the unfollowed user's posts, and every other post older than the page exactly once."""
    kept, dropped = make_user(), make_user()
    Follow.objects.create(follower=user, followee=kept)
    Follow.objects.create(follower=user, followee=dropped)
    if SILENT[plan]:
        follow_silent_users(user, SILENT[plan])
    made = [post((user, kept, dropped)[i % 3], i) for i in range(60)]
    newest_first = [p.pk for p in made[::-1]]
    client = client_for(user)
    first = client.get("/feed?limit=10")
    seen = ids(first)
    assert seen == newest_first[:10]
    (status,) = run_at_once([lambda: client_for(user).delete(f"/users/{dropped.pk}/follow").status_code])
    assert status == 204
    response = first
    while "next" in links(response):
        response = client.get(links(response)["next"])
        seen += ids(response)
    rest = [p.pk for p in made[::-1][10:] if p.owner_id != dropped.pk]
    assert seen == newest_first[:10] + rest
