"""The post's output as ``PostOutSerializer`` writes it (a writer made once from its declared
fields, api/representation.py) against DRF's walk of the same nested serializers, in-process,
on pages of 10 and 100 posts: each one's time (best of 5) and the ratio, in one run. It uses no
database, but the settings need a URL: ``DATABASE_URL=postgres://x@127.0.0.1:1/x SECRET_KEY=...
.venv/bin/python bench/post_out.py``.
"""

import datetime
import os
import sys
import timeit
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from rest_framework import serializers  # noqa: E402

from accounts.models import User  # noqa: E402
from posts.models import Post  # noqa: E402
from posts.serializers import PostOutSerializer, PostSerializer  # noqa: E402


class NestedPostOutSerializer(serializers.Serializer):
    """The declared fields of ``PostOutSerializer`` alone, walked by DRF for each post."""

    Post = PostSerializer(source="*", read_only=True)
    votes = serializers.IntegerField(source="vote_total", read_only=True)


def main() -> None:
    """Print one line per page size: both times in µs and their ratio."""
    now = datetime.datetime.now(datetime.UTC)
    owner = User(id=1, email="user1@example.com", date_joined=now)
    for size in (10, 100):
        page = [
            Post(
                id=i,
                title="t" * 40,
                content="c" * 200,
                published=True,
                created_at=now,
                owner=owner,
                vote_total=3,
            )
            for i in range(size)
        ]
        if PostOutSerializer(page, many=True).data != NestedPostOutSerializer(page, many=True).data:
            raise SystemExit("the two outputs differ: compare them before timing them")
        times = {}
        serializers_by_name: dict[str, type[serializers.Serializer]] = {
            "direct": PostOutSerializer,
            "nested": NestedPostOutSerializer,
        }
        for name, serializer in serializers_by_name.items():

            def serialize(
                serializer: type[serializers.Serializer] = serializer, page: list[Post] = page
            ) -> object:
                return serializer(page, many=True).data

            times[name] = min(timeit.repeat(serialize, number=200, repeat=5)) / 200 * 1e6
        print(
            f"{size} posts: direct {times['direct']:.0f} µs, nested {times['nested']:.0f} µs, "
            f"{times['nested'] / times['direct']:.1f} times faster than the walk"
        )


if __name__ == "__main__":
    main()
