"""Operators delete users with SQL, as they did with the original: the user's posts, and the
votes on them, go with them (the tokens and memberships: accounts/tests/test_sql_delete.py)."""

import pytest
from django.db import connection

from accounts.models import User
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db


def test_sql_delete_of_a_user_takes_their_posts_and_the_votes_on_them(user, other_user, make_post):
    post = make_post()
    Vote.objects.create(user=other_user, post=post)

    users = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {users} WHERE id = %s", [user.pk])  # noqa: S608
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks a COMMIT would make

    assert not User.objects.filter(pk=user.pk).exists()
    assert not Post.objects.exists() and not Vote.objects.exists()
