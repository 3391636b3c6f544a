"""The comment threads `make bench` reads: one post with a thread of each size's length (a
thousand comments at 1k, a million at 1M and 10M) and one with ten, seeded by one INSERT ...
SELECT each (the database's triggers run per row, as for any writer), kept while they hold the
expected number of comments."""

import re

from django.db import connection

from accounts.models import User
from comments.models import Comment
from posts.models import Post

THREADS = {"1k": 1_000, "1M": 1_000_000, "10M": 1_000_000}
SMALL = 10


def seed(size: str) -> tuple[int, int, int, str]:
    """(the big thread's post, the small one's, a top-level comment of the big thread to reply
    to, a line saying how they were made)."""
    posts = Post.objects.filter(published=True, hidden=False).order_by("id").values_list("id", flat=True)
    big, small = posts[0], posts[1]
    said = []
    for post_id, length in ((big, THREADS[size]), (small, SMALL)):
        if Comment.objects.filter(post_id=post_id, parent=None).count() != length:
            Comment.objects.filter(post_id=post_id).delete()
            users = list(User.objects.order_by("id").values_list("id", flat=True)[:100])
            with connection.cursor() as cursor:
                # Oldest first by created_at, one second apart, owners in turn.
                cursor.execute(
                    "INSERT INTO comments_comment (post_id, owner_id, content, created_at) "
                    "SELECT %s, (%s::bigint[])[1 + i %% %s], 'comment ' || i, "
                    "now() - make_interval(secs => %s - i) FROM generate_series(1, %s) i",
                    [post_id, users, len(users), length, length],
                )
                cursor.execute("ANALYZE comments_comment")
            said.append(f"seeded {length} comments on post {post_id}")
        else:
            said.append(f"kept {length} comments on post {post_id}")
    parent = Comment.objects.filter(post_id=big, parent=None).order_by("created_at", "id").first()
    if parent is None:
        raise SystemExit(f"no comment on post {big} to reply to")
    return big, small, parent.pk, "; ".join(said)


def cursor_of(link: str) -> str:
    """The `rel="next"` URL's path and query, from a `Link` header."""
    match = re.search(r'<https?://[^/]+([^>]+)>; rel="next"', link)
    if match is None:
        raise SystemExit(f"no next link in {link!r}")
    return match.group(1)
