"""api.representation: the writer gives what DRF's own walk of the fields gives."""

import pytest

from comments.models import Comment
from comments.serializers import CommentSerializer
from posts.models import Post
from posts.serializers import PostOutSerializer

pytestmark = pytest.mark.django_db


def drf(serializer_class, instance):
    """DRF's Serializer.to_representation, not the class's own (which uses the writer)."""
    return super(serializer_class, serializer_class()).to_representation(instance)


def test_the_writer_matches_drf_for_posts_and_for_null_values(make_post, user):
    # A PostOut is a post read with its count, as every read that answers one reads it.
    post = Post.objects.with_vote_count().get(pk=make_post().pk)
    assert PostOutSerializer(post).data == drf(PostOutSerializer, post)
    top = Comment.objects.create(post=post, owner=user, content="top")
    stored = Comment.objects.select_related("owner").get(pk=top.pk)
    assert CommentSerializer(stored).data == drf(CommentSerializer, stored)
    # The owner, the parent and edited_at null: null, as DRF writes them.
    nulls = Comment(pk=1, post=post, owner=None, parent=None, content="x", edited_at=None)
    nulls.created_at = post.created_at
    nulls.reply_count = 0
    assert CommentSerializer(nulls).data == drf(CommentSerializer, nulls)
