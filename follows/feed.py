"""The home feed's query (CONTRACT.md §7.5): fan-out on read, from PostgreSQL alone.

A post is written once, whoever follows its author, so a post by an account with a million
followers costs what anyone's costs. A feed page is read at request time: no timeline to
rebuild, nothing that can lag behind a deactivation, a hidden post or a draft.

A page is two queries: the ids of its posts (``feed_ids``), then those posts with their owners
by primary key (``feed_posts``, the visibility rule stated again, so a post hidden or an author
deactivated between the two is left out, never shown). The ids are read in one of three ways,
whichever costs least for the caller, all in one statement (one-time filters on the follow count,
counted once, run exactly one):

- **merge**, below FEW_FOLLOWEES followees: for the caller and each active followee, the first
  ``limit + 1`` posts after the cursor off the partial index ``post_feed`` (owner, created_at
  DESC, id DESC; published and not hidden), then the newest ``limit + 1`` of those;
- **walk with a hash**, from FEW_FOLLOWEES to MANY_FOLLOWEES: the newest-first index
  ``post_newest_first`` read from the cursor, keeping the posts whose author the caller follows
  (a hash of their ids, built per page);
- **walk with probes**, from MANY_FOLLOWEES on: the same walk, each post read looked up in the
  follows' unique index ``follow_once`` (follower, followee): no hash of every followee.

The merge reads up to ``(followees + 1) * (limit + 1)`` index entries; the walks about ``limit``
times (all posts / the followees' posts) rows, the hash walk hashing every followee besides.
The merge and the walks cost about the same near the square root of the number of authors (316
at bench/feed.py's 100,000 users); the probes cost more per post read than the hash, less than
hashing the followees once these are many (bench/feed.py times each plan alone: at 100,000 users
the hash wins at 1,000 followees, the probes at 10,000; bench/RESULTS.md). Weak spot: a caller
who follows hundreds of users who rarely post makes the walk read far down the index before a
page is full.
"""

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from api.compiled import CompiledQuery
from api.paging import NEXT, Ordering
from posts.models import Post

ORDERING = Ordering("feed", ("created_at", "id"))

#: Below this many followees a page merges each author's newest posts (LATERAL); from it on,
#: it walks the newest-first index (see the module docstring).
FEW_FOLLOWEES = 300
#: From this many followees on, the walk looks each candidate post's author up in the follows'
#: unique index (follower, followee) instead of hashing all the followees first.
MANY_FOLLOWEES = 2_000

# One statement, three plans: each branch is gated by a one-time filter on the follow count
# (counted once, in the CTE, no further than MANY_FOLLOWEES), so PostgreSQL runs exactly one.
_COUNT = "WITH n AS MATERIALIZED (SELECT count(*) AS n FROM (SELECT 1 FROM follows_follow WHERE follower_id = %s LIMIT {many}) c)"
_MERGE = """
    SELECT p.id, p.created_at FROM (
        SELECT %s::bigint AS id
        UNION ALL
        SELECT f.followee_id FROM follows_follow f
        JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
        WHERE f.follower_id = %s
    ) a
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts_post p
        WHERE p.owner_id = a.id AND p.published AND NOT p.hidden {after}
        ORDER BY p.created_at {order}, p.id {order} LIMIT %s
    ) p
    WHERE (SELECT n FROM n) < {few}
    ORDER BY p.created_at {order}, p.id {order} LIMIT %s
"""
_WALK_HASH = """
    SELECT p.id, p.created_at FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE (SELECT n FROM n) >= {few} AND (SELECT n FROM n) < {many}
      AND p.published AND NOT p.hidden {after}
      AND (p.owner_id = %s OR p.owner_id IN (SELECT followee_id FROM follows_follow WHERE follower_id = %s))
    ORDER BY p.created_at {order}, p.id {order} LIMIT %s
"""
# The scalar subquery is a SubPlan run per candidate row (PostgreSQL never turns it into a
# join): one probe of follow_once, whatever the number of followees.
_WALK_PROBE = """
    SELECT p.id, p.created_at FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE (SELECT n FROM n) >= {many}
      AND p.published AND NOT p.hidden {after}
      AND (p.owner_id = %s OR (SELECT true FROM follows_follow f WHERE f.follower_id = %s AND f.followee_id = p.owner_id))
    ORDER BY p.created_at {order}, p.id {order} LIMIT %s
"""
_PLANS = f"({_MERGE}) UNION ALL ({_WALK_HASH}) UNION ALL ({_WALK_PROBE})"
_PAGE = f"{_COUNT} SELECT x.id FROM ({_PLANS}) x ORDER BY x.created_at {{order}}, x.id {{order}} LIMIT %s"  # noqa: S608


def feed_ids(
    user_id: int, *, position: tuple[datetime, int] | tuple[()] | None, direction: str, limit: int
) -> list[int]:
    """The ids of up to `limit` posts of the user's feed (published, not hidden, by the user or
    an active user they follow) after `position` in `direction`, in that direction's order (NEXT:
    older, newest first, from the newest without a position; PREV: newer, oldest first, from the
    oldest without one). One query."""
    params: list[Any] = []
    if not position:
        after = ""
    else:
        operator = "<" if direction == NEXT else ">"
        after, params = f"AND (p.created_at, p.id) {operator} (%s, %s)", list(position)
    order = "DESC" if direction == NEXT else "ASC"
    merge: list[Any] = [user_id, user_id, *params, limit, limit]
    walk: list[Any] = [*params, user_id, user_id, limit]
    sql = _PAGE.format(after=after, order=order, few=FEW_FOLLOWEES, many=MANY_FOLLOWEES)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, *merge, *walk, *walk, limit])
        return [row[0] for row in cursor.fetchall()]


#: The posts of a page by id, with their owners and their counts, compiled once per process
#: (api/compiled.py); ``ids`` is run with a list of ids (an array: ``unnest`` takes any length).
_POSTS = CompiledQuery(
    lambda ids: (
        Post.objects.select_related("owner")
        .filter(
            id__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]),
            published=True,
            hidden=False,
            owner__is_active=True,
        )
        .with_vote_count()
    ),
    "ids",
)


def feed_posts(ids: list[int]) -> list[Post]:
    """The posts of `ids` still in a feed (published, not hidden, their author active), with
    their owners and their counts (``with_vote_count``), in the order of `ids`. One query, by
    primary key, its SQL compiled once (``_POSTS``)."""
    if not ids:
        return []
    found = _POSTS.run(ids=ids)  # the stand-in of _POSTS's RawSQL takes the list
    by_id = {post.pk: post for post in found}
    return [by_id[i] for i in ids if i in by_id]
