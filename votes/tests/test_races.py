"""Concurrent requests on real threads, each with its own database connection."""

import pytest

from accounts.models import User
from testing.clients import client_for
from testing.threads import run_at_once
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)


def test_identical_votes_at_once_give_one_201_and_the_rest_409(user, make_post):
    post = make_post()
    clients = [client_for(user) for _ in range(20)]
    responses = run_at_once([lambda c=c: c.post("/vote/", {"post_id": post.pk, "dir": 1}) for c in clients])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19
    assert Vote.objects.filter(post=post).count() == 1


def test_many_users_voting_at_once_are_all_counted(make_user, make_post):
    post = make_post()
    clients = [client_for(make_user()) for _ in range(20)]
    responses = run_at_once([lambda c=c: c.post("/vote/", {"post_id": post.pk, "dir": 1}) for c in clients])
    assert [r.status_code for r in responses] == [201] * 20
    assert Vote.objects.filter(post=post).count() == 20


def test_identical_signups_at_once_give_one_201(api_client):
    from rest_framework.test import APIClient

    body = {"email": "race@example.com", "password": "password123"}
    responses = run_at_once([lambda: APIClient().post("/users/", body, format="json") for _ in range(10)])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert User.objects.filter(email="race@example.com").count() == 1
