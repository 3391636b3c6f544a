"""`manage.py seed`: repeatable demo data that replaces the previous seeding only."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from accounts.models import User
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
                "id", "title", "content", "published", "created_at", "owner_id"
            )
        ),
        list(Vote.objects.order_by("user_id", "post_id").values_list("user_id", "post_id", "created_at")),
    )


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
    counted = dict(Post.objects.annotate(n=Count("votes")).values_list("id", "n"))
    assert dict(Post.objects.values_list("id", "vote_total")) == counted


def test_same_arguments_same_data():
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first


def test_a_new_seeding_replaces_the_old_one():
    seed(users=30, posts=500, votes=1_000)
    seed(users=5, posts=50, votes=100)
    assert User.objects.count() == 5
    assert Post.objects.count() == 50
    assert not Vote.objects.exclude(user__email__regex=r"^user[1-5]@example\.com$").exists()


def test_other_data_is_kept_and_its_counts_stay_exact(make_user):
    seed(users=5, posts=50, votes=100)
    alice = make_user("alice@example.com")
    hers = Post.objects.create(owner=alice, title="mine", content="c")
    Vote.objects.create(user=User.objects.get(email="user1@example.com"), post=hers)
    Vote.objects.create(user=alice, post=Post.objects.filter(owner__email="user2@example.com").first())
    seed(users=5, posts=50, votes=100, allow_existing_data=this_database())
    hers.refresh_from_db()
    assert hers.vote_total == 0  # user1's vote went with the old user1
    assert list(Post.objects.filter(owner=alice)) == [hers]
    assert User.objects.count() == 6
    assert Post.objects.count() == 51
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
