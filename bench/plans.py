"""Each read scenario's page query on the data in the database: its time (best of 5) and the
scans of its plan. Run after `make bench` or `manage.py seed`: `.venv/bin/python bench/plans.py`."""

import os
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from posts.models import Post  # noqa: E402


def main() -> None:
    user = User.objects.get(email="user1@example.com")
    posts = Post.objects.visible_to(user).with_vote_count()
    newest = posts.order_by("-created_at", "-id")
    middle = Post.objects.filter(published=True).order_by("id").values_list("id", flat=True)
    queries = {
        "list": newest[:10],
        "list, skip=1000": newest[1000:1010],
        "search=django": newest.filter(title__icontains="django")[:10],
        "search, a rare term": newest.filter(title__icontains=f"#{Post.objects.count() - 1}")[:10],
        "sort=top": posts.order_by("-vote_total", "-created_at", "-id")[:10],
        "get one": posts.filter(pk=middle[middle.count() // 2])[:1],
    }
    with connection.cursor() as cursor:
        for name, query in queries.items():
            sql, params = query.query.sql_with_params()
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                best = min(best, time.perf_counter() - started)
            cursor.execute(f"EXPLAIN {sql}", params)
            scans = [row[0].strip().lstrip("-> ") for row in cursor.fetchall() if "Scan" in row[0]]
            print(f"{name:22} {best * 1000:8.2f} ms  {' / '.join(s.split('  (')[0] for s in scans)}")


if __name__ == "__main__":
    main()
