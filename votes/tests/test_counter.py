"""votes/counter.py and votes/triggers.py: the trigger names are the database's, suspended() makes
them stand aside in one transaction without locking a table, and recount() makes the counts exact."""

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.db.transaction import TransactionManagementError

from posts.models import Post
from testing.threads import run_at_once
from votes import counter
from votes.models import Vote
from votes.triggers import TRIGGERS

pytestmark = pytest.mark.django_db


def enabled_triggers() -> dict[tuple[str, str], str]:
    """{(table, trigger name): pg_trigger.tgenabled} for the user triggers on votes and posts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal AND c.relname = ANY(%s)",
            [[Vote._meta.db_table, Post._meta.db_table]],
        )
        return {(table, name): enabled for table, name, enabled in cursor.fetchall()}


def counts() -> tuple[dict[int, int], dict[int, int]]:
    """(each post's stored vote_total, each post's number of votes)."""
    stored = dict(Post.objects.values_list("id", "vote_total"))
    counted = dict(Post.objects.annotate(n=Count("votes")).values_list("id", "n"))
    return stored, counted


def table_locks() -> set[tuple[str, str]]:
    """{(table, lock mode)} this session holds on the votes and posts tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = pg_backend_pid() AND c.relname = ANY(%s)",
            [[Vote._meta.db_table, Post._meta.db_table]],
        )
        return set(cursor.fetchall())


def test_the_trigger_names_are_the_database_triggers():
    present = enabled_triggers()
    for table, names in TRIGGERS.items():
        for name in names:
            assert present.get((table, name)) == "O", (table, name)  # "O": enabled (origin)


def test_suspended_counts_nothing_in_its_body_and_counts_again_after(user, other_user, make_post):
    post = make_post()
    with transaction.atomic():
        with counter.suspended():
            Vote.objects.create(user=user, post=post)
            post.refresh_from_db()
            assert post.vote_total == 0
        Vote.objects.create(user=other_user, post=post)
    post.refresh_from_db()
    assert post.vote_total == 1


def test_suspended_takes_no_exclusive_lock_and_leaves_the_triggers_enabled(user, make_post):
    post = make_post()
    with transaction.atomic(), counter.suspended():
        Vote.objects.create(user=user, post=post)
        Post.objects.filter(pk=post.pk).update(title="edited")
        modes = {mode for _, mode in table_locks()}
        assert "AccessExclusiveLock" not in modes, modes
        assert set(enabled_triggers().values()) == {"O"}


def test_suspended_is_lifted_when_its_body_raises(user, make_post):
    post = make_post()
    with transaction.atomic():
        with pytest.raises(RuntimeError), counter.suspended():
            raise RuntimeError
        Vote.objects.create(user=user, post=post)
    post.refresh_from_db()
    assert post.vote_total == 1


@pytest.mark.django_db(transaction=True)
def test_suspended_refuses_to_run_outside_a_transaction():
    with pytest.raises(TransactionManagementError, match="atomic"), counter.suspended():
        pass


def test_votes_written_while_suspended_are_counted_by_recount(user, other_user, make_post):
    first, second, quiet = make_post(), make_post(), make_post()
    with transaction.atomic(), counter.suspended():
        Vote.objects.bulk_create(
            [Vote(user=user, post=first), Vote(user=other_user, post=first), Vote(user=user, post=second)]
        )
        assert counts()[0] == {first.pk: 0, second.pk: 0, quiet.pk: 0}  # not counted yet
        assert counter.recount() == 2
    stored, counted = counts()
    assert stored == counted == {first.pk: 2, second.pk: 1, quiet.pk: 0}


def test_recount_of_some_posts_leaves_the_others(user, make_post):
    first, second = make_post(), make_post()
    with transaction.atomic(), counter.suspended():
        Vote.objects.bulk_create([Vote(user=user, post=first), Vote(user=user, post=second)])
        assert counter.recount([first.pk]) == 1
        assert counts()[0] == {first.pk: 1, second.pk: 0}
        assert counter.recount([second.pk, second.pk]) == 1
    stored, counted = counts()
    assert stored == counted


def test_recount_lowers_counts_of_votes_deleted_while_suspended(user, other_user, make_post):
    post = make_post()
    Vote.objects.create(user=user, post=post)
    Vote.objects.create(user=other_user, post=post)
    with transaction.atomic(), counter.suspended():
        Vote.objects.filter(user=user).delete()
        counter.recount()
    stored, counted = counts()
    assert stored == counted == {post.pk: 1}


def test_recount_refuses_to_run_while_the_guard_would_ignore_it(make_post):
    make_post()
    with pytest.raises(TransactionManagementError, match="suspended"):
        counter.recount()


def test_the_guard_ignores_a_count_written_outside_a_vote_trigger(user, make_post):
    post = make_post()
    Vote.objects.create(user=user, post=post)
    Post.objects.filter(pk=post.pk).update(vote_total=7)
    post.refresh_from_db()
    assert post.vote_total == 1


@pytest.mark.django_db(transaction=True)
def test_other_sessions_votes_are_counted_while_one_transaction_is_suspended(user, other_user, make_post):
    loaded, live = make_post(), make_post()

    def vote_elsewhere() -> int:
        with connection.cursor() as cursor:  # a table lock would make this wait: fail instead
            cursor.execute("SET lock_timeout = '5s'")
        Vote.objects.create(user=other_user, post=live)  # another connection, its own transaction
        return Post.objects.values_list("vote_total", flat=True).get(pk=live.pk)

    with transaction.atomic(), counter.suspended():
        Vote.objects.create(user=user, post=loaded)
        [elsewhere] = run_at_once([vote_elsewhere])
    assert elsewhere == 1
    stored, counted = counts()
    assert stored == {loaded.pk: 0, live.pk: 1}  # the suspended transaction's vote waits for recount
    assert counted == {loaded.pk: 1, live.pk: 1}
