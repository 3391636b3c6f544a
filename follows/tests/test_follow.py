"""PUT and DELETE /users/{id}/follow (CONTRACT.md §7.5)."""

import pytest
from django.test import override_settings

from follows.models import Follow
from testing.assertions import assert_error
from testing.clients import client_for
from testing.threads import run_at_once

pytestmark = pytest.mark.django_db


def test_follow_is_204_and_one_row(auth_client, user, other_user):
    response = auth_client.put(f"/users/{other_user.pk}/follow")
    assert (response.status_code, response.content) == (204, b"")
    assert list(Follow.objects.values_list("follower_id", "followee_id")) == [(user.pk, other_user.pk)]


def test_following_again_changes_nothing_and_keeps_the_time(auth_client, other_user):
    auth_client.put(f"/users/{other_user.pk}/follow")
    first = Follow.objects.get()
    assert auth_client.put(f"/users/{other_user.pk}/follow/").status_code == 204
    again = Follow.objects.get()
    assert (again.pk, again.created_at) == (first.pk, first.created_at)


def test_unfollow_is_204_whether_or_not_followed(auth_client, other_user):
    assert auth_client.delete(f"/users/{other_user.pk}/follow").status_code == 204
    auth_client.put(f"/users/{other_user.pk}/follow")
    assert auth_client.delete(f"/users/{other_user.pk}/follow").status_code == 204
    assert auth_client.delete(f"/users/{other_user.pk}/follow").status_code == 204
    assert not Follow.objects.exists()


def test_following_again_after_unfollow_is_a_new_follow(auth_client, other_user):
    auth_client.put(f"/users/{other_user.pk}/follow")
    first = Follow.objects.get()
    auth_client.delete(f"/users/{other_user.pk}/follow")
    auth_client.put(f"/users/{other_user.pk}/follow")
    assert Follow.objects.get().created_at > first.created_at


@pytest.mark.parametrize("method", ["put", "delete"])
def test_missing_or_deactivated_user_is_404(auth_client, make_user, method):
    gone = make_user()
    gone_id = gone.pk
    gone.delete()
    inactive = make_user(is_active=False)
    for user_id in (gone_id, inactive.pk, 2**63 - 1):
        response = getattr(auth_client, method)(f"/users/{user_id}/follow")
        assert_error(response, 404, f"User with id: {user_id} does not exist")
    assert not Follow.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete"])
def test_own_id_and_ids_beyond_64_bits_are_422_at_path_id(auth_client, user, method):
    for user_id in (user.pk, 2**63, 2**64, -(2**63) - 1, "abc", "1.5"):
        response = getattr(auth_client, method)(f"/users/{user_id}/follow")
        assert_error(response, 422, loc=["path", "id"])
    assert not Follow.objects.exists()


def test_follow_needs_a_token(api_client, other_user):
    assert_error(api_client.put(f"/users/{other_user.pk}/follow"), 401, "Not authenticated")


@override_settings(FOLLOW_RATE="3/minute")
def test_follows_and_unfollows_share_a_per_user_limit(auth_client, other_user, make_user):
    third = make_user()
    for call in (auth_client.put, auth_client.delete, auth_client.put):
        response = call(f"/users/{other_user.pk}/follow")
        assert response.status_code == 204
        assert response.headers["RateLimit-Policy"] == '"follow";q=3;w=60'
    refused = auth_client.put(f"/users/{third.pk}/follow")
    body = assert_error(refused, 429)
    assert body["detail"].startswith("Too many follows.")
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["RateLimit"].startswith('"follow";r=0;')
    assert not Follow.objects.filter(followee=third).exists()
    # Another user has a count of their own.
    assert client_for(third).put(f"/users/{other_user.pk}/follow").status_code == 204


@pytest.mark.django_db(transaction=True)
def test_concurrent_follows_of_one_pair_give_one_row(user, other_user):
    clients = [client_for(user) for _ in range(8)]
    statuses = run_at_once([lambda c=c: c.put(f"/users/{other_user.pk}/follow").status_code for c in clients])
    assert statuses == [204] * 8
    assert Follow.objects.filter(follower=user, followee=other_user).count() == 1


def test_the_database_refuses_a_second_row_and_a_self_follow(user, other_user):
    from django.db import IntegrityError, transaction

    Follow.objects.create(follower=user, followee=other_user)
    for follower, followee in ((user, other_user), (user, user)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Follow.objects.create(follower=follower, followee=followee)


def test_deleting_a_user_removes_their_follows_both_ways(user, other_user, make_user):
    third = make_user()
    Follow.objects.create(follower=user, followee=other_user)
    Follow.objects.create(follower=other_user, followee=third)
    Follow.objects.create(follower=third, followee=user)
    other_user.delete()
    assert list(Follow.objects.values_list("follower_id", "followee_id")) == [(third.pk, user.pk)]


def test_the_export_holds_follows_both_ways(auth_client, user, other_user, make_user):
    import json

    third = make_user(is_active=False)
    Follow.objects.create(follower=user, followee=other_user)
    Follow.objects.create(follower=user, followee=third)
    follower = Follow.objects.create(follower=other_user, followee=user)
    response = auth_client.get("/users/me/export")
    body = json.loads(b"".join(response.streaming_content))
    assert [row["user_id"] for row in body["following"]] == [other_user.pk, third.pk]
    assert body["followers"] == [{"user_id": other_user.pk, "created_at": follower.created_at.isoformat()}]
