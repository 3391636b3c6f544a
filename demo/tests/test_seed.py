"""`manage.py seed`: repeatable demo data that replaces the previous seeding only."""

import io
import statistics

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F

from accounts.models import User
from demo import schema
from demo.models import PendingRebuild
from follows.models import Follow
from posts.models import Post
from votes.models import Vote

pytestmark = pytest.mark.django_db
SEED_PASSWORD = "seeded-pass-1"


def seed(
    users: int = 20, posts: int = 2_000, votes: int = 6_000, password: str = SEED_PASSWORD, **options: str
) -> None:
    call_command(
        "seed", users=users, posts=posts, votes=votes, password=password, stdout=io.StringIO(), **options
    )


def this_database() -> str:
    return connection.settings_dict["NAME"]


def snapshot() -> tuple:
    return (
        list(User.objects.order_by("id").values_list("id", "email", "date_joined")),
        list(
            Post.objects.order_by("id").values_list(
                "id", "title", "content", "published", "created_at", "owner_id", "vote_total"
            )
        ),
        list(Vote.objects.order_by("id").values_list("id", "user_id", "post_id", "created_at")),
        list(Follow.objects.order_by("id").values_list("id", "follower_id", "followee_id", "created_at")),
    )


LOADED_TABLES = ["accounts_user", "posts_post", "votes_vote", "follows_follow"]


def catalog() -> tuple:
    """The loaded tables' indexes, constraints and triggers, as the catalog states them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1, 2",
            [LOADED_TABLES],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated, "
            "condeferrable, condeferred FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [LOADED_TABLES],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [LOADED_TABLES],
        )
        return indexes, constraints, cursor.fetchall()


def assert_counts_exact() -> None:
    """Each post's stored count is its number of votes."""
    counted = dict(Post.objects.annotate(n=Count("votes")).values_list("id", "n"))
    assert dict(Post.objects.values_list("id", "vote_total")) == counted


def test_seeded_users_log_in_with_the_password(api_client):
    seed(users=3, posts=10, votes=10)
    assert sorted(User.objects.values_list("email", flat=True)) == [f"user{n}@example.com" for n in (1, 2, 3)]
    response = api_client.post(
        "/login", {"username": "user3@example.com", "password": "seeded-pass-1"}, format="multipart"
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


def test_posts_and_votes_look_like_the_request(auth_client):
    seed(allow_existing_data=this_database())  # beside auth_client's user
    assert Post.objects.count() == 2_000
    assert 0.07 < Post.objects.filter(title__icontains="django").count() / 2_000 < 0.13
    assert 0.03 < Post.objects.filter(published=False).count() / 2_000 < 0.07
    assert 5_000 < Vote.objects.count() < 7_000
    # Spread over the users and over time.
    assert Post.objects.values("owner").distinct().count() == 20
    span = (
        Post.objects.order_by("created_at").last().created_at
        - Post.objects.order_by("created_at").first().created_at
    )
    assert span.days > 365
    # The stored counts are the votes' counts.
    assert_counts_exact()


def test_same_arguments_same_data():
    seed(users=1_200, follows=True)  # several slices of posts and of follows
    first = snapshot()
    seed(users=1_200, follows=True)
    assert snapshot() == first
    assert len(first[1]) == 2_000


def test_counts_are_exact_and_the_sequences_move_on(make_user):
    seed(users=30, posts=2_000, votes=6_000, follows=True)
    assert User.objects.count() == 30
    assert Post.objects.count() == 2_000
    assert 5_000 < Vote.objects.count() < 7_000
    assert_counts_exact()
    # Ids run from 1 without gaps, and new rows take the next ones.
    for model in (User, Post, Vote, Follow):
        assert list(model.objects.order_by("id").values_list("id", flat=True)) == list(
            range(1, model.objects.count() + 1)
        )
    alice = make_user("alice@example.com")
    assert alice.pk == 31
    post = Post.objects.create(owner=alice, title="t", content="c")
    assert post.pk == 2_001
    assert Vote.objects.create(user=alice, post=post).pk == Vote.objects.count()
    assert Follow.objects.create(follower=alice, followee_id=1).pk == Follow.objects.count()


def test_the_social_graph_designates_its_celebrity_and_readers():
    seed(users=1_200, posts=100, votes=100, follows=True)
    following = dict(Follow.objects.values("follower").annotate(n=Count("id")).values_list("follower", "n"))
    # user2, user3 and user4 follow exactly 10, 1,000 and 10,000 users (capped at everyone else).
    assert [following[n] for n in (2, 3, 4)] == [10, 1_000, 1_199]
    # user1 is followed by every other user, those three included.
    assert sorted(Follow.objects.filter(followee_id=1).values_list("follower_id", flat=True)) == list(
        range(2, 1_201)
    )
    # Power law: most follow tens (at least 10), a few many more.
    others = [n for user, n in following.items() if user > 4]
    assert min(others) >= 10
    assert 10 <= statistics.median(others) <= 40
    assert max(others) > 100
    assert not Follow.objects.filter(follower_id=F("followee_id")).exists()


def test_the_loaded_tables_and_the_followee_sets_have_statistics():
    """The planner knows each table's size after a load (ANALYZE; -1: never analyzed), the
    followee sets the follows' triggers wrote included."""
    seed(users=300, posts=100, votes=100, follows=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) ORDER BY 1",
            [[*LOADED_TABLES, "follows_followeeset"]],
        )
        tuples = dict(cursor.fetchall())
    assert len(tuples) == 5
    assert all(count > 0 for count in tuples.values()), tuples


def test_a_graph_of_one_user_has_no_follows():
    seed(users=1, posts=5, votes=0, follows=True)
    assert not Follow.objects.exists()


def test_indexes_and_constraints_are_back_after_a_load():
    before = catalog()
    seed(follows=True)
    assert catalog() == before
    assert not PendingRebuild.objects.exists()


def test_a_failed_load_leaves_the_schema_and_the_data_as_they_were():
    seed(users=5, posts=50, votes=100, follows=True)
    data, before = snapshot(), catalog()
    with connection.cursor() as cursor:  # a row the load will write breaks a rule of the database
        cursor.execute("ALTER TABLE posts_post ADD CONSTRAINT seed_test_fails CHECK (id < 1500) NOT VALID")
    with pytest.raises(Exception, match="seed_test_fails"):
        seed(users=5, posts=2_000, votes=100, follows=True)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE posts_post DROP CONSTRAINT seed_test_fails")
    assert catalog() == before
    assert snapshot() == data
    assert not PendingRebuild.objects.exists()


def test_an_insert_trigger_other_than_the_counters_still_fires():
    with connection.cursor() as cursor:  # as a later migration might add one
        cursor.execute(
            "CREATE FUNCTION seed_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'seed_test_trigger fired'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER seed_test AFTER INSERT ON votes_vote FOR EACH ROW EXECUTE FUNCTION seed_test_refuse()"
        )
    with pytest.raises(Exception, match="seed_test_trigger fired"):
        seed(users=5, posts=50, votes=100)


def test_what_a_killed_load_dropped_is_rebuilt_by_the_next_seed():
    before = catalog()
    with connection.cursor() as cursor:  # what a load killed after its drop leaves behind
        schema.drop_for_load(cursor, ['"posts_post"', '"votes_vote"'])
    assert catalog() != before
    seed()
    assert catalog() == before
    assert not PendingRebuild.objects.exists()


def test_a_new_seeding_replaces_the_old_one():
    seed(users=30, posts=500, votes=1_000)
    seed(users=5, posts=50, votes=100)
    assert User.objects.count() == 5
    assert Post.objects.count() == 50
    assert not Vote.objects.exclude(user__email__regex=r"^user[1-5]@example\.com$").exists()


def test_other_data_is_kept_and_its_counts_stay_exact(make_user):
    seed(users=5, posts=50, votes=100, follows=True)
    alice = make_user("alice@example.com")
    hers = Post.objects.create(owner=alice, title="mine", content="c")
    Vote.objects.create(user=User.objects.get(email="user1@example.com"), post=hers)
    Vote.objects.create(user=alice, post=Post.objects.filter(owner__email="user2@example.com").first())
    Follow.objects.create(follower=alice, followee=User.objects.get(email="user3@example.com"))
    seed(users=5, posts=50, votes=100, follows=True, allow_existing_data=this_database())
    hers.refresh_from_db()
    assert hers.vote_total == 0  # user1's vote went with the old user1
    assert list(Post.objects.filter(owner=alice)) == [hers]
    assert User.objects.count() == 6
    assert Post.objects.count() == 51
    assert_counts_exact()
    # Alice's follow went with the old user3; the new seeded users follow each other only.
    assert not Follow.objects.filter(follower=alice).exists()
    assert Follow.objects.filter(followee__email="user1@example.com").count() == 4
    assert not Follow.objects.exclude(follower__email__regex=r"^user[1-5]@example\.com$").exists()
    new_post = Post.objects.create(owner=alice, title="next", content="c")
    assert new_post.pk == Post.objects.order_by("-id").values_list("id", flat=True)[0]  # sequence moved on


def test_bad_arguments_are_refused():
    with pytest.raises(CommandError):
        seed(users=0)


def test_a_database_with_other_users_is_refused_and_left_alone(make_user):
    seed(users=5, posts=50, votes=100)
    make_user("alice@example.com")
    before = snapshot()
    with pytest.raises(
        CommandError,
        match=rf"holds 1 user\(s\) that seed did not create.*--allow-existing-data={this_database()}",
    ):
        seed(users=5, posts=50, votes=100)
    with pytest.raises(CommandError, match="names another database"):
        seed(users=5, posts=50, votes=100, allow_existing_data="someone_elses_db")
    assert snapshot() == before


def test_a_real_account_with_a_seed_like_name_is_never_replaced(make_user):
    real = make_user("user3@example.com")
    Post.objects.create(owner=real, title="real", content="a real user's post")
    before = snapshot()
    with pytest.raises(CommandError, match=r"user3@example\.com is a real account"):
        seed(users=5, posts=50, votes=100, allow_existing_data=this_database())
    assert snapshot() == before
    real.refresh_from_db()
    assert real.check_password("password123")


def test_a_real_account_past_the_seeded_addresses_is_no_obstacle(make_user):
    real = make_user("user150@example.com")
    seed(users=5, posts=10, votes=5, allow_existing_data=this_database())
    assert User.objects.filter(email__regex=r"^user[1-5]@example\.com$").count() == 5
    real.refresh_from_db()
    assert real.check_password("password123")
    with pytest.raises(CommandError, match=r"user150@example\.com is a real account.*--users 149"):
        seed(users=200, posts=10, votes=5, allow_existing_data=this_database())
