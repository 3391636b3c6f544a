"""GET /users/{id}/followers and /users/{id}/following (CONTRACT.md §7.5)."""

import datetime as dt

import pytest

from follows.models import Follow
from testing.assertions import assert_error

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def follow(follower, followee, minute: int) -> Follow:
    return Follow.objects.create(
        follower=follower, followee=followee, created_at=T0 + dt.timedelta(minutes=minute)
    )


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [user["id"] for user in response.json()]


def links(response) -> dict[str, str]:
    found = {}
    for part in response.headers.get("Link", "").split(", "):
        if part:
            url, rel = part.split("; ")
            found[rel.split('"')[1]] = url.strip("<>").split("testserver", 1)[1]
    return found


@pytest.fixture
def crowd(make_user, user):
    """Five users following `user` (owner@example.com) at minutes 1..5, the last two at the same
    time; `user` follows the first three."""
    people = [make_user() for _ in range(5)]
    for minute, person in zip((1, 2, 3, 4, 4), people, strict=True):
        follow(person, user, minute)
    for minute, person in enumerate(people[:3], start=10):
        follow(user, person, minute)
    return people


def test_followers_most_recent_first_ties_by_id_descending(auth_client, user, crowd):
    tied = sorted((crowd[3].pk, crowd[4].pk), reverse=True)
    assert ids(auth_client.get(f"/users/{user.pk}/followers")) == [
        *tied,
        crowd[2].pk,
        crowd[1].pk,
        crowd[0].pk,
    ]
    listed = next(person for person in crowd if person.pk == tied[0])
    body = auth_client.get(f"/users/{user.pk}/followers/").json()
    assert body[0] == {"id": listed.pk, "email": listed.email, "created_at": body[0]["created_at"]}


def test_following_most_recent_first(auth_client, user, crowd):
    assert ids(auth_client.get(f"/users/{user.pk}/following")) == [crowd[2].pk, crowd[1].pk, crowd[0].pk]


def test_pages_by_cursor_with_counts(auth_client, user, crowd):
    first = auth_client.get(f"/users/{user.pk}/followers?limit=2", HTTP_PREFER="count=exact")
    assert (first.headers["X-Total-Count"], first.headers["Preference-Applied"]) == ("5", "count=exact")
    seen = ids(first)
    response = first
    while "next" in links(response):
        response = auth_client.get(links(response)["next"])
        seen += ids(response)
    assert seen == ids(auth_client.get(f"/users/{user.pk}/followers?limit=100"))
    assert ids(auth_client.get(f"/users/{user.pk}/followers?limit=0")) == []
    assert len(ids(auth_client.get(f"/users/{user.pk}/followers?limit=1000"))) == 5


def test_unfollow_during_paging_loses_nobody_else(auth_client, user, crowd):
    first = auth_client.get(f"/users/{user.pk}/followers?limit=2")
    Follow.objects.filter(follower=crowd[2]).delete()  # the first of the next page
    rest = ids(auth_client.get(links(first)["next"] + "&limit=10"))
    assert ids(first) + rest == [p for p in ids(auth_client.get(f"/users/{user.pk}/followers"))]
    assert rest == [crowd[1].pk, crowd[0].pk]


def test_deactivated_users_are_not_listed_and_come_back_in_place(auth_client, user, crowd):
    before = ids(auth_client.get(f"/users/{user.pk}/followers"))
    crowd[2].is_active = False
    crowd[2].save()
    assert ids(auth_client.get(f"/users/{user.pk}/followers")) == [i for i in before if i != crowd[2].pk]
    assert crowd[2].pk not in ids(auth_client.get(f"/users/{user.pk}/following"))
    crowd[2].is_active = True
    crowd[2].save()
    assert ids(auth_client.get(f"/users/{user.pk}/followers")) == before


def test_missing_or_deactivated_user_is_404_and_bad_query_422(auth_client, make_user, user, crowd):
    inactive = make_user(is_active=False)
    for path in ("followers", "following"):
        for user_id in (inactive.pk, 2**63 - 1):
            assert_error(
                auth_client.get(f"/users/{user_id}/{path}"), 404, f"User with id: {user_id} does not exist"
            )
        assert_error(auth_client.get(f"/users/{2**64}/{path}"), 422, loc=["path", "id"])
        assert_error(auth_client.get(f"/users/{user.pk}/{path}?limit=-1"), 422, loc=["query", "limit"])
        assert_error(auth_client.get(f"/users/{user.pk}/{path}?cursor=abc"), 422, loc=["query", "cursor"])


def test_a_cursor_is_valid_only_on_its_own_list(auth_client, user, crowd):
    cursor = links(auth_client.get(f"/users/{user.pk}/followers?limit=1"))["next"].split("cursor=")[1]
    for path in (f"/users/{user.pk}/following", f"/users/{crowd[0].pk}/followers", "/posts/", "/feed"):
        assert_error(auth_client.get(f"{path}?cursor={cursor}"), 422, loc=["query", "cursor"])


def test_lists_have_an_etag(auth_client, user, crowd):
    first = auth_client.get(f"/users/{user.pk}/followers")
    again = auth_client.get(f"/users/{user.pk}/followers", HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert (again.status_code, again.content) == (304, b"")


def test_lists_need_a_token(api_client, user):
    assert_error(api_client.get(f"/users/{user.pk}/followers"), 401, "Not authenticated")


def test_list_query_count_is_fixed(auth_client, user, crowd, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):  # the caller, the user's existence, the page
        assert len(ids(auth_client.get(f"/users/{user.pk}/followers?limit=100"))) == 5
