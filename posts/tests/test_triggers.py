"""posts/triggers.py: only a transaction inside hidden_writable() changes Post.hidden; the rule
is keyed on posts' own setting, no other app's."""

import pytest
from django.db import connection, transaction

from posts.models import Post
from posts.triggers import hidden_writable

pytestmark = pytest.mark.django_db


def stored_hidden(post: Post) -> bool:
    return Post.objects.values_list("hidden", flat=True).get(pk=post.pk)


def test_a_write_outside_hidden_writable_keeps_hidden(make_post):
    post = make_post()
    Post.objects.filter(pk=post.pk).update(hidden=True)
    assert stored_hidden(post) is False


def test_hidden_writable_lets_the_write_through_and_ends_with_its_block(make_post):
    post = make_post()
    with transaction.atomic():
        with hidden_writable():
            Post.objects.filter(pk=post.pk).update(hidden=True)
        assert stored_hidden(post) is True
        Post.objects.filter(pk=post.pk).update(hidden=False)  # after the block: kept
        assert stored_hidden(post) is True


def test_a_setting_named_after_moderation_no_longer_opens_the_guard(make_post):
    post = make_post()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('moderation.acting', 'on', true)")
        Post.objects.filter(pk=post.pk).update(hidden=True)
    assert stored_hidden(post) is False
