"""The home feed's query (CONTRACT.md §7.5): fan-out on read, one SQL statement per page.

A post is written once, whoever follows its author, so a post by an account with a million
followers costs what anyone's costs. A feed page is read at request time from PostgreSQL, the
only store: no timeline to rebuild, nothing that can lag behind a deactivation, a hidden post or
a draft.

The page is a merge of the followees' newest posts: for each followee (and the caller), the
first ``limit + 1`` posts after the cursor's position, read straight off the partial index
``post_feed`` (owner, created_at DESC, id DESC, published and not hidden only), then the newest
``limit + 1`` of those. bench/feed.py measures it against the plain ``owner_id IN (followees)``
query, which PostgreSQL answers by scanning every post of every followee (or the whole newest-first
index), and the figures are in bench/RESULTS.md.
"""

from datetime import datetime

from django.db.models import BigIntegerField, QuerySet
from django.db.models.expressions import RawSQL

from api.paging import NEXT, Ordering
from posts.models import Post

ORDERING = Ordering("feed", ("created_at", "id"))

# The newest posts of the caller and of the active users the caller follows, after (or before)
# a position, one LIMIT per author: each author's part is one short index range scan.
# (users followed but deactivated are dropped before their posts are read.)
_AUTHORS = """
    SELECT %s::bigint AS id
    UNION ALL
    SELECT f.followee_id FROM follows_follow f
    JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
    WHERE f.follower_id = %s
"""
_NEWEST = f"""
    SELECT p.id FROM ({_AUTHORS}) a
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts_post p
        WHERE p.owner_id = a.id AND p.published AND NOT p.hidden {{after}}
        ORDER BY p.created_at {{order}}, p.id {{order}} LIMIT %s
    ) p
    ORDER BY p.created_at {{order}}, p.id {{order}} LIMIT %s
"""  # noqa: S608 (no value is formatted in: only the fixed fragments below)


def feed_posts(
    user_id: int, *, position: tuple[datetime, int] | tuple[()] | None, direction: str, limit: int
) -> QuerySet[Post]:
    """The feed's posts (published, not hidden, by an active author the user follows, or by the
    user): the first ``limit`` after `position` in `direction` (NEXT: older, from the newest
    without a position; PREV: newer, from the oldest without one), with their owners,
    unordered: api.paging.keyset_page orders, cuts and pages them.
    `limit` is the number of rows the page reads (its size plus one)."""
    if not position:
        after, params = "", []
    else:
        operator = "<" if direction == NEXT else ">"
        after, params = f"AND (p.created_at, p.id) {operator} (%s, %s)", list(position)
    order = "DESC" if direction == NEXT else "ASC"
    sql = _NEWEST.format(after=after, order=order)
    newest = RawSQL(sql, [user_id, user_id, *params, limit, limit], output_field=BigIntegerField())  # noqa: S611
    # The owner's join (select_related) states the rule again where the rows are read: free.
    return Post.objects.select_related("owner").filter(id__in=newest, owner__is_active=True)
