"""bench/datasets.py: a kept database is tidied back to its seeded rows before it is checked."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Max

from accounts.models import User
from bench import datasets
from follows.models import Follow
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db
COUNTS = {"users": 30, "posts": 400, "votes": 900, "follows": True}


def highest() -> list[int]:
    return [model.objects.aggregate(top=Max("id"))["top"] for model in (Post, Vote, Follow)]


def test_tidy_deletes_the_rows_added_after_the_seed_and_nothing_else():
    call_command(
        "seed", users=30, posts=400, votes=900, follows=True, password="p-1234567", stdout=io.StringIO()
    )
    seeded, db = highest(), connection.connection
    assert datasets.tidy(db, COUNTS) == ""  # the seed's own rows, ids from 1 with no gap
    assert highest() == seeded == [Post.objects.count(), Vote.objects.count(), Follow.objects.count()]
    assert datasets._holds(db, COUNTS)
    voter = User.objects.get(pk=5)
    # What runs leave behind: a post with a vote on it, a vote on a seeded post, a follow.
    late = Post.objects.create(owner=voter, title="late", content="committed after the clean-up")
    Vote.objects.create(user=User.objects.get(pk=6), post=late)
    voted = Post.objects.filter(pk__lte=seeded[0], published=True).exclude(votes__user=voter).first()
    before = voted.vote_total
    Vote.objects.create(user=voter, post=voted)
    followed = User.objects.exclude(pk=voter.pk).exclude(follower_set__follower=voter).first()
    Follow.objects.create(follower=voter, followee=followed)
    assert not datasets._holds(db, COUNTS)

    assert datasets.tidy(db, COUNTS) == "1 post, 1 vote, 1 follow"
    assert highest() == seeded
    voted.refresh_from_db()
    assert voted.vote_total == before
    assert datasets._holds(db, COUNTS)
