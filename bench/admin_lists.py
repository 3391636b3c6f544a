"""Time the admin's post, vote and user lists, and the moderation queue, on a million posts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/admin_bench SECRET_KEY=x \\
        .venv/bin/python bench/admin_lists.py [posts]

Fills the (migrated) database named in DATABASE_URL with that many posts (default 1,000,000),
a vote on each of the first 100,000, and 1,000 users, unless it holds them already; then
100,000 open reports (two on each of the newest 40,000 posts, a third on half of them; each
with a note) and 1,000 hidden posts, unless there are reports already. Then loads each list as
a superuser and prints its time and query count.
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
from moderation.models import Report  # noqa: E402
from posts.models import Post  # noqa: E402
from posts.triggers import hidden_writable  # noqa: E402


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


def fill_reports() -> None:
    if Report.objects.exists():
        return
    with connection.cursor() as cursor:
        # Reporters are the 1,000 users after each post's owner, so never the owner.
        cursor.execute(
            "INSERT INTO moderation_report (post_id, reporter_id, reason, note, created_at) "
            "SELECT p.id, m.u0 + (p.owner_id - m.u0 + k) % 1000, "
            "(ARRAY['spam', 'abuse', 'off-topic', 'other'])[1 + (p.id + k) % 4], 'note ' || p.id, "
            "now() - (p.id % 100000) * interval '1 second' - k * interval '1 minute' "
            "FROM (SELECT id, owner_id FROM posts_post ORDER BY id DESC LIMIT 40000) p "
            "CROSS JOIN generate_series(1, 3) k CROSS JOIN (SELECT min(id) AS u0 FROM accounts_user) m "
            "WHERE k < 3 OR p.id % 2 = 0"
        )
        cursor.execute(
            "INSERT INTO moderation_reportedpost (post_id, open_reports, first_reported_at, last_reported_at) "
            "SELECT post_id, count(*), min(created_at), max(created_at) FROM moderation_report GROUP BY post_id"
        )
    # Hidden as the moderation actions hide them: the trigger lets no other writer.
    with hidden_writable(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE posts_post SET hidden = true WHERE id IN "
            "(SELECT post_id FROM moderation_reportedpost ORDER BY post_id LIMIT 1000)"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    fill(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    fill_reports()
    boss, _ = User.objects.get_or_create(email="bench-admin@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(boss)
    print(f"{Post.objects.count():,} posts, {Report.objects.count():,} reports")
    for url in (
        "/admin/posts/post/",
        "/admin/posts/post/?p=100",
        "/admin/posts/post/?published__exact=1",
        "/admin/posts/post/?q=post+12345",
        "/admin/votes/vote/",
        "/admin/accounts/user/",
        "/admin/moderation/reportedpost/",
        "/admin/moderation/reportedpost/?o=-3",
        "/admin/moderation/reportedpost/?p=100",
        "/admin/moderation/reportedpost/?state=hidden",
        "/admin/moderation/reportedpost/?state=all",
        "/admin/moderation/moderationaction/",
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
