"""Time the admin's post, vote and user lists on a million posts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/admin_bench SECRET_KEY=x \\
        .venv/bin/python bench/admin_lists.py [posts]

Fills the (migrated) database named in DATABASE_URL with that many posts (default 1,000,000),
a vote on each of the first 100,000, and 1,000 users, unless it holds them already; then loads
each list as a superuser and prints its time and query count.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from posts.models import Post  # noqa: E402


def fill(posts: int) -> None:
    if Post.objects.exists():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (email, password, is_superuser, is_staff, is_active, date_joined) "
            "SELECT 'user' || i || '@example.com', '!', false, false, true, now() FROM generate_series(1, 1000) i ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO posts_post (title, content, published, created_at, owner_id) "
            "SELECT 'post ' || i, 'content of post ' || i, i %% 10 <> 0, now() - i * interval '1 second', "
            "(SELECT min(id) FROM accounts_user) + i %% 1000 FROM generate_series(1, %s) i",
            [posts],
        )
        cursor.execute(
            "INSERT INTO votes_vote (user_id, post_id, created_at) "
            "SELECT p.owner_id, p.id, now() FROM posts_post p ORDER BY p.id LIMIT 100000"
        )
        cursor.execute("ANALYZE")


def main() -> None:
    fill(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    boss, _ = User.objects.get_or_create(email="bench-admin@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(boss)
    print(f"{Post.objects.count():,} posts")
    for url in (
        "/admin/posts/post/",
        "/admin/posts/post/?p=100",
        "/admin/posts/post/?published__exact=1",
        "/admin/posts/post/?q=post+12345",
        "/admin/votes/vote/",
        "/admin/accounts/user/",
    ):
        client.get(url)  # warm the cache
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        print(f"{url:45} {elapsed * 1000:7.0f} ms  {len(queries)} queries")


if __name__ == "__main__":
    main()
