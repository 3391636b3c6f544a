"""The home feed's query (CONTRACT.md §7.5): fan-out on read, from PostgreSQL alone.

A post is written once, whoever follows its author, so a post by an account with a million
followers costs what anyone's costs. A feed page is read at request time: no timeline to
rebuild, nothing that can lag behind a deactivation, a hidden post or a draft.

A page is two queries: the ids of its posts (``feed_ids``), then those posts with their owners
by primary key (``feed_posts``, the visibility rule stated again, so a post hidden or an author
deactivated between the two is left out, never shown). The ids come from the database function
``follows_feed_page`` (``INSTALL`` below, installed by follows/migrations/0003_*): it counts the
caller's follows (no further than MANY_FOLLOWEES; reading 2,000 entries of an index costs about
0.5 ms, so each process keeps the number for FOLLOWEES_KEPT_FOR seconds and passes it in), then
runs one of three plans, whichever costs least for that count (each gives the same page):

- **merge**, below FEW_FOLLOWEES followees: for the caller and each active followee, the first
  ``limit`` posts after the cursor off the partial index ``post_feed`` (owner, created_at DESC,
  id DESC; published and not hidden), then the newest ``limit`` of those;
- **walk with a hash**, from FEW_FOLLOWEES to MANY_FOLLOWEES: the index ``post_feed_walk``
  (created_at DESC, id DESC, carrying owner_id; published and not hidden) read from the cursor
  without visiting the table, keeping the posts whose author the caller follows (a hash of their
  ids, built per page);
- **walk with probes**, from MANY_FOLLOWEES on: the same walk, each post read looked up in the
  follows' unique index ``follow_once`` (follower, followee): no hash of every followee.

The merge reads about ``(followees + 1) * limit`` index entries in as many index descents; the
walks about ``limit`` times (all posts / the followees' posts) entries, the hash walk hashing
every followee besides. The function's statements are planned once per database connection
(``plan_cache_mode = force_generic_plan``: the shape of each plan does not depend on the caller),
so a page pays no planning; without JIT compilation and parallel workers, which a generic plan's
estimates (a tenth of all posts for ``LIMIT page``) would ask for on every page. At 10M posts and a million users (bench/RESULTS.md) the merge costs
about 10 ms of database CPU at 1,000 followees against 1 to 2 ms for the walk, whatever the cursor;
the probes cost more per post read than the hash, less than hashing the followees once these
are many. Weak spot: a caller who follows hundreds of users who rarely post makes the walk read
far down the index before a page is full.
"""

import time
from datetime import datetime

from django.db import connection
from django.db.models.expressions import RawSQL

from api.compiled import CompiledQuery
from api.paging import NEXT, PREV, Ordering
from posts.models import Post

ORDERING = Ordering("feed", ("created_at", "id"))

#: Below this many followees a page merges each author's newest posts (LATERAL); from it on,
#: it walks the newest-first index (see the module docstring).
FEW_FOLLOWEES = 300
#: From this many followees on, the walk looks each candidate post's author up in the follows'
#: unique index (follower, followee) instead of hashing all the followees first.
MANY_FOLLOWEES = 2_000

# The page's three plans in each direction ({op}: "<" older, newest first; ">" newer, oldest
# first). Positions outside any post's (infinity) stand for "from the start".
_MERGE = """
    SELECT p.id, followees FROM (
        SELECT reader AS owner
        UNION ALL
        SELECT f.followee_id FROM follows_follow f
        JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
        WHERE f.follower_id = reader
    ) a
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts_post p
        WHERE p.owner_id = a.owner AND p.published AND NOT p.hidden AND (p.created_at, p.id) {op} (position_at, position_id)
        ORDER BY p.created_at {order}, p.id {order} LIMIT page
    ) p
    ORDER BY p.created_at {order}, p.id {order} LIMIT page"""
_WALK_HASH = """
    SELECT p.id, followees FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) {op} (position_at, position_id)
      AND (p.owner_id = reader OR p.owner_id IN (SELECT f.followee_id FROM follows_follow f WHERE f.follower_id = reader))
    ORDER BY p.created_at {order}, p.id {order} LIMIT page"""
# The scalar subquery is a SubPlan run per candidate row (PostgreSQL never turns it into a
# join): one probe of follow_once, whatever the number of followees.
_WALK_PROBE = """
    SELECT p.id, followees FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) {op} (position_at, position_id)
      AND (p.owner_id = reader OR (SELECT true FROM follows_follow f WHERE f.follower_id = reader AND f.followee_id = p.owner_id))
    ORDER BY p.created_at {order}, p.id {order} LIMIT page"""


def _plans(op: str, order: str) -> str:
    merge, walk_hash, walk_probe = (
        sql.format(op=op, order=order) for sql in (_MERGE, _WALK_HASH, _WALK_PROBE)
    )
    return f"""
        IF followees < few THEN RETURN QUERY {merge};
        ELSIF followees < many THEN RETURN QUERY {walk_hash};
        ELSE RETURN QUERY {walk_probe};
        END IF;"""


#: ``follows_feed_page(reader, position_at, position_id, newer, page, few, many, followees)``: up to
#: `page` posts of `reader`'s feed after the position (created_at, id): older ones newest first, or
#: with `newer` newer ones oldest first; each row (post, followees) also carries the number of
#: users `reader` follows, counted no further than `many`, that chose the plan. `few` and `many`:
#: FEW_FOLLOWEES and MANY_FOLLOWEES; `followees`: that number if the caller knows it (NULL: the
#: function counts). STABLE: its queries see the snapshot of the statement that calls it.
INSTALL = f"""
CREATE OR REPLACE FUNCTION follows_feed_page(
    reader bigint, position_at timestamptz, position_id bigint, newer boolean, page integer, few integer, many integer,
    followees integer
) RETURNS TABLE (post bigint, followee_count integer) LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET max_parallel_workers_per_gather = 0 SET jit = off AS $$
BEGIN
    IF followees IS NULL THEN
        SELECT count(*) INTO followees FROM (SELECT 1 FROM follows_follow WHERE follower_id = reader LIMIT many) c;
    END IF;
    IF newer THEN {_plans(">", "ASC")}
    ELSE {_plans("<", "DESC")}
    END IF;
END $$;
"""  # noqa: S608 (constants only)
REMOVE = "DROP FUNCTION follows_feed_page(bigint, timestamptz, bigint, boolean, integer, integer, integer, integer)"

_PAGE = (
    "SELECT post, followee_count FROM follows_feed_page(%s, %s::timestamptz, %s, %s, %s, %s, %s, %s) "
    "WITH ORDINALITY AS f(post, followee_count, n) ORDER BY n"
)
# Where a page without a position starts: before every post (NEXT) or after every post (PREV).
_START = {NEXT: ("infinity", 2**63 - 1), PREV: ("-infinity", -(2**63))}

#: Seconds this process keeps a reader's number of followees (as the function counted it) to
#: choose the plan of the reader's next pages without counting again. The number only chooses
#: the plan, never which posts a page holds: a stale one costs time, never a wrong page. It drifts
#: by at most FOLLOW_RATE's follows in that time (60 by default), and a follow or unfollow through
#: this process forgets it at once.
FOLLOWEES_KEPT_FOR = 60.0
# reader's id -> (followees counted no further than MANY_FOLLOWEES, until when: time.monotonic()).
_followees: dict[int, tuple[int, float]] = {}


def forget_followees(user_id: int | None = None) -> None:
    """Forget the number of followees this process keeps for `user_id` (None: for everyone),
    after the user follows or unfollows someone."""
    if user_id is None:
        _followees.clear()
    else:
        _followees.pop(user_id, None)


def _known_followees(user_id: int) -> int | None:
    kept = _followees.get(user_id)
    if kept is None or kept[1] < time.monotonic():
        return None
    return kept[0]


def feed_ids(
    user_id: int, *, position: tuple[datetime, int] | tuple[()] | None, direction: str, limit: int
) -> list[int]:
    """The ids of up to `limit` posts of the user's feed (published, not hidden, by the user or
    an active user they follow) after `position` in `direction`, in that direction's order (NEXT:
    older, newest first, from the newest without a position; PREV: newer, oldest first, from the
    oldest without one). One query (``follows_feed_page``), which counts the user's followees
    unless this process counted them in the last FOLLOWEES_KEPT_FOR seconds."""
    at, after = position or _START[direction]
    known = _known_followees(user_id)
    params = [user_id, at, after, direction != NEXT, limit, FEW_FOLLOWEES, MANY_FOLLOWEES, known]
    with connection.cursor() as cursor:
        cursor.execute(_PAGE, params)
        rows = cursor.fetchall()
    if rows and known is None:
        if len(_followees) > 100_000:  # the readers of the last FOLLOWEES_KEPT_FOR seconds stay few
            _followees.clear()
        _followees[user_id] = (rows[0][1], time.monotonic() + FOLLOWEES_KEPT_FOR)
    return [post for post, _ in rows]


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
