"""The home feed's query (CONTRACT.md §7.5): fan-out on read, one SQL statement per page.

A post is written once, whoever follows its author, so a post by an account with a million
followers costs what anyone's costs. A feed page is read at request time from PostgreSQL, the
only store: no timeline to rebuild, nothing that can lag behind a deactivation, a hidden post or
a draft.

A page is read in one of two ways, whichever costs less for the caller, in one statement:

- **merge**, for a caller who follows fewer than FEW_FOLLOWEES users: for the caller and each
  active followee, the first ``limit + 1`` posts after the cursor, each an index range read off
  the partial index ``post_feed`` (owner, created_at DESC, id DESC; published, not hidden), then
  the newest ``limit + 1`` of those. It reads up to ``(followees + 1) * (limit + 1)`` index
  entries: cheap for tens of followees, 110,000 for 10,000.
- **walk**, from FEW_FOLLOWEES followees on: the newest-first index ``post_newest_first`` read
  from the cursor, keeping the posts whose author is in the caller's followees (a hash of their
  ids, built once per page). It reads about ``limit`` times (all posts / the followees' posts)
  rows: few for a caller who follows many, the whole table for one who follows few.

The two costs cross near the square root of the number of authors (316 at the 100,000 users of
bench/feed.py), so the feed's cost stays about flat from 10 followees to 10,000. bench/feed.py
measures this against the merge alone and against the plain ``owner_id IN (followees)`` query;
the figures are in bench/RESULTS.md. Its known weak spot: a caller who follows many users who
all rarely post makes the walk read far down the index before it fills a page.
"""

from datetime import datetime

from django.db.models import BigIntegerField, QuerySet
from django.db.models.expressions import RawSQL

from api.paging import NEXT, Ordering
from posts.models import Post

ORDERING = Ordering("feed", ("created_at", "id"))

#: Below this many followees a page merges each author's newest posts (LATERAL); from it on,
#: it walks the newest-first index keeping the followees' posts (see the module docstring).
FEW_FOLLOWEES = 300

# One statement, two plans: each branch is gated by a one-time filter on the follow count
# (counted no further than FEW_FOLLOWEES), so PostgreSQL runs exactly one of them.
_FEW = "(SELECT count(*) FROM (SELECT 1 FROM follows_follow WHERE follower_id = %s LIMIT {few}) c) {compare} {few}"
_MERGE = f"""
    SELECT p.id, p.created_at FROM (
        SELECT %s::bigint AS id
        UNION ALL
        SELECT f.followee_id FROM follows_follow f
        JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
        WHERE f.follower_id = %s
    ) a
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts_post p
        WHERE p.owner_id = a.id AND p.published AND NOT p.hidden {{after}}
        ORDER BY p.created_at {{order}}, p.id {{order}} LIMIT %s
    ) p
    WHERE {_FEW.format(few=FEW_FOLLOWEES, compare="<")}
    ORDER BY p.created_at {{order}}, p.id {{order}} LIMIT %s
"""  # noqa: S608 (only the fixed fragments below are formatted in)
_WALK = f"""
    SELECT p.id, p.created_at FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE {_FEW.format(few=FEW_FOLLOWEES, compare=">=")}
      AND p.published AND NOT p.hidden {{after}}
      AND (p.owner_id = %s OR p.owner_id IN (SELECT followee_id FROM follows_follow WHERE follower_id = %s))
    ORDER BY p.created_at {{order}}, p.id {{order}} LIMIT %s
"""  # noqa: S608
_PAGE = f"SELECT x.id FROM (({_MERGE}) UNION ALL ({_WALK})) x"  # noqa: S608


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
    sql = _PAGE.format(after=after, order=order)
    merge = [user_id, user_id, *params, limit, user_id, limit]
    walk = [user_id, *params, user_id, user_id, limit]
    newest = RawSQL(sql, [*merge, *walk], output_field=BigIntegerField())  # noqa: S611
    # The owner's join (select_related) states the rule again where the rows are read: free.
    return Post.objects.select_related("owner").filter(id__in=newest, owner__is_active=True)
