"""`manage.py seed`'s parallel load (processes of its own, each committing its slices): the same
rows as one transaction, and the schema back after a load and after a failed one."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from demo.models import PendingRebuild
from demo.tests.test_seed import assert_counts_exact, catalog, snapshot
from posts.models import Post
from votes.models import Vote

# The loads commit from connections of their own, and start processes.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ARGUMENTS = {"users": 1_200, "posts": 2_000, "votes": 6_000, "follows": True, "password": "seeded-pass-1"}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed", **{**ARGUMENTS, **options}, stdout=out)
    return out.getvalue()


def test_parallel_loads_give_the_rows_of_one_transaction():
    before = catalog()
    said = seed(jobs=2)
    assert "2 job(s)" in said
    assert "index builds" in said and "foreign keys (validation)" in said
    parallel = snapshot()
    assert len(parallel[0]) == 1_200 and len(parallel[1]) == 2_000
    assert_counts_exact()
    assert catalog() == before
    assert not PendingRebuild.objects.exists()
    seed(jobs=3)
    assert snapshot() == parallel
    seed(jobs=1)  # one transaction, one connection
    assert snapshot() == parallel


def test_a_failed_parallel_load_leaves_the_schema_intact_and_the_tables_empty():
    seed(jobs=2)
    before = catalog()
    with connection.cursor() as cursor:  # a row the load will write breaks a rule of the database
        cursor.execute("ALTER TABLE posts_post ADD CONSTRAINT seed_test_fails CHECK (id < 1500) NOT VALID")
    try:
        with pytest.raises(RuntimeError, match="seed_test_fails"):
            seed(jobs=2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE posts_post DROP CONSTRAINT seed_test_fails")
    assert catalog() == before
    assert not PendingRebuild.objects.exists()
    assert not Post.objects.exists()
    assert not Vote.objects.exists()
