"""List and get-one build `PostOut` directly; it must stay what the declared serializers give."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils import timezone as django_timezone

from accounts.serializers import UserSerializer
from posts.models import Post
from posts.serializers import PostOutSerializer, PostSerializer
from votes.models import Vote

pytestmark = pytest.mark.django_db


def test_fast_post_out_equals_the_declared_serializers(user, other_user, make_post):
    post = make_post(title='Ünïcode "quoted"', content="x" * 1000, published=False)
    make_post(created_at=datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=5))))
    Vote.objects.create(user=other_user, post=post)
    for loaded in Post.objects.visible_to(user).with_vote_count():
        declared = {"Post": PostSerializer(loaded).data, "votes": loaded.vote_count}
        assert declared["Post"]["owner"] == UserSerializer(loaded.owner).data
        assert PostOutSerializer(loaded).data == declared
        assert list(PostOutSerializer(loaded).data["Post"]) == list(declared["Post"])


def test_times_are_utc_with_the_numeric_offset(auth_client, make_post):
    make_post(created_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    item = auth_client.get("/posts/").json()[0]
    assert item["Post"]["created_at"] == "2024-01-02T03:04:05.000000+00:00"


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_fast_post_out_writes_times_as_the_declared_field_in_any_time_zone(user, make_post, zone):
    make_post(created_at=datetime(2024, 2, 29, 23, 59, 59, 5, tzinfo=timezone(timedelta(hours=-3))))
    with django_timezone.override(zone):
        for loaded in Post.objects.visible_to(user).with_vote_count():
            declared = PostSerializer(loaded).data
            out = PostOutSerializer(loaded).data["Post"]
            assert (out["created_at"], out["owner"]["created_at"]) == (
                declared["created_at"],
                declared["owner"]["created_at"],
            )
    assert out["created_at"].endswith(
        {"UTC": "+00:00", "Asia/Kolkata": "+05:30", "America/St_Johns": "-03:30"}[zone]
    )
