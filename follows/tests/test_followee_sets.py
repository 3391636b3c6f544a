"""The followee sets (follows.models.FolloweeSet, kept by follows/triggers.py): after every kind
of write to the follows, each user's set is exactly the sorted ids of everyone they follow."""

import threading
import time

import pytest
from django.db import connection, transaction

from accounts.models import User
from follows import feed
from follows.models import Follow, FolloweeSet
from posts.models import Post
from testing.clients import client_for
from testing.threads import run_at_once


def follows_by_follower() -> dict[int, list[int]]:
    """What the sets must hold: the follows, as {follower id: sorted followee ids}."""
    found: dict[int, list[int]] = {}
    for follower, followee in Follow.objects.order_by("follower_id", "followee_id").values_list(
        "follower_id", "followee_id"
    ):
        found.setdefault(follower, []).append(followee)
    return found


def assert_sets_match_follows() -> None:
    sets = {s.user_id: (s.followees, s.count) for s in FolloweeSet.objects.all()}
    expected = follows_by_follower()
    assert {user: followees for user, (followees, _) in sets.items() if followees} == expected
    assert all(count == len(followees) for followees, count in sets.values())


@pytest.mark.django_db
def test_every_kind_of_write_keeps_the_sets_exact(user, other_user, make_user):
    people = [make_user() for _ in range(6)]
    client = client_for(user)
    for person in reversed(people[:4]):  # followed out of id order: the set is sorted anyway
        assert client.put(f"/users/{person.pk}/follow").status_code == 204
    assert client.put(f"/users/{people[0].pk}/follow").status_code == 204  # again: one row
    assert FolloweeSet.objects.get(user=user).followees == sorted(p.pk for p in people[:4])
    assert_sets_match_follows()

    assert client.delete(f"/users/{people[1].pk}/follow").status_code == 204
    assert_sets_match_follows()
    # Several followers in one statement, duplicates of existing follows ignored.
    Follow.objects.bulk_create(
        [Follow(follower=other_user, followee=p) for p in people]
        + [Follow(follower=user, followee=people[0]), Follow(follower=people[5], followee=user)],
        ignore_conflicts=True,
    )
    assert_sets_match_follows()
    # An UPDATE moving a follow to another followee.
    Follow.objects.filter(follower=user, followee=people[2]).update(followee=people[4])
    assert_sets_match_follows()
    # Deleting a followee and a follower: the database's cascades.
    people[3].delete()
    assert_sets_match_follows()
    people[5].delete()
    assert_sets_match_follows()
    assert not FolloweeSet.objects.filter(user_id=people[5].pk).exists()
    # Several followers' follows deleted in one statement.
    Follow.objects.filter(followee__in=[people[0], people[4]]).delete()
    assert_sets_match_follows()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no foreign-key check
        cursor.execute("TRUNCATE follows_follow")
    assert list(FolloweeSet.objects.all()) == []


@pytest.mark.django_db
def test_deactivation_does_not_touch_the_sets_and_the_feed_still_drops_them(user, other_user, monkeypatch):
    """The set holds whom the user follows, active or not; the feed read through it (its walk
    forced here for one followee) checks is_active, so a deactivated author's posts leave the
    feed at once and come back with the author."""
    monkeypatch.setattr(feed, "FEW_FOLLOWEES", 0)
    monkeypatch.setattr(feed, "MANY_FOLLOWEES", 0)
    client = client_for(user)
    assert client.put(f"/users/{other_user.pk}/follow").status_code == 204
    theirs = Post.objects.create(owner=other_user, title="t", content="c").pk

    def shown() -> list[int]:
        response = client.get("/feed")
        assert response.status_code == 200
        return [item["Post"]["id"] for item in response.json()]

    assert shown() == [theirs]
    User.objects.filter(pk=other_user.pk).update(is_active=False)
    assert FolloweeSet.objects.get(user=user).followees == [other_user.pk]
    assert shown() == []
    User.objects.filter(pk=other_user.pk).update(is_active=True)
    assert shown() == [theirs]


@pytest.mark.django_db(transaction=True)
def test_concurrent_follows_and_unfollows_of_one_user_lose_nothing(user, make_user, settings):
    """Rounds of eight threads, each following six users and unfollowing one it followed before,
    for the same follower at once: every thread's change lands in the one set row they all
    write. (A set recomputed from the follows each statement sees would lose some.)"""
    settings.FOLLOW_RATE = "10000/minute"
    client = client_for(user)
    kept: list[int] = []
    for _ in range(4):
        people = [make_user() for _ in range(8 * 7)]
        Follow.objects.bulk_create(Follow(follower=user, followee=people[i * 7]) for i in range(8))

        def change(i: int, people: list = people) -> None:
            for person in people[i * 7 + 1 : i * 7 + 7]:
                assert client.put(f"/users/{person.pk}/follow").status_code == 204
            assert client.delete(f"/users/{people[i * 7].pk}/follow").status_code == 204

        run_at_once([lambda i=i: change(i) for i in range(8)])
        kept += [p.pk for i in range(8) for p in people[i * 7 + 1 : i * 7 + 7]]
        assert FolloweeSet.objects.get(user=user).followees == sorted(kept)
        assert_sets_match_follows()


@pytest.mark.django_db(transaction=True)
def test_deleting_a_user_while_their_follow_is_uncommitted_waits_for_it(user, make_user):
    """A follow still open while its follower deletes their account: the deletion waits for
    the follow's commit, then removes it with the user (no deadlock between the follow's
    foreign-key check and the set's row)."""
    followee, already = make_user(), make_user()
    Follow.objects.create(follower=user, followee=already)  # the user has a set row
    followed, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            with transaction.atomic():
                Follow.objects.bulk_create([Follow(follower=user, followee=followee)], ignore_conflicts=True)
                followed.set()
                release.wait(5)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def delete() -> None:
        try:
            followed.wait(5)
            User.objects.filter(pk=user.pk).delete()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=follow), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    followed.wait(5)
    time.sleep(0.3)  # the deletion is now waiting on the follow's key-share lock
    release.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Follow.objects.filter(follower_id=user.pk).exists()
    assert not FolloweeSet.objects.filter(user_id=user.pk).exists()
    assert_sets_match_follows()
