"""Operators delete users with SQL, as they did with the original: what belongs to the user
goes with them, refresh-token records included, and nothing stands in the way."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from testing.clients import login

pytestmark = pytest.mark.django_db


def tokens(client, email="owner@example.com"):
    """A login's JSON body (access and refresh tokens); the login must succeed."""
    response = login(client, email)
    assert response.status_code == 200
    return response.json()


def test_sql_delete_of_a_user_takes_their_tokens_and_memberships(api_client, user, other_user):
    first = tokens(api_client, user.email)
    tokens(api_client, user.email)
    assert (
        api_client.post("/login/refresh", {"refresh": first["refresh_token"]}, format="json").status_code
        == 200
    )
    tokens(api_client, other_user.email)
    user.groups.add(Group.objects.create(name="editors"))
    user.user_permissions.add(Permission.objects.first())
    LogEntry.objects.create(
        user=user, content_type=ContentType.objects.get_for_model(User), object_repr="x", action_flag=ADDITION
    )
    assert OutstandingToken.objects.filter(user=user).count() == 3
    assert BlacklistedToken.objects.filter(token__user=user).count() == 1

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks a COMMIT would make

    assert not User.objects.filter(pk=user.pk).exists()
    assert not OutstandingToken.objects.filter(user_id=user.pk).exists()
    assert not BlacklistedToken.objects.exists()
    assert not LogEntry.objects.exists()  # their posts and votes: votes/tests/test_sql_delete.py
    # Other users' sessions are untouched.
    assert OutstandingToken.objects.filter(user=other_user).count() == 1
    assert Group.objects.filter(name="editors").exists()


def test_django_still_deletes_a_user_as_before(api_client, user):
    tokens(api_client, user.email)
    user.delete()
    assert not User.objects.filter(pk=user.pk).exists()
