"""The home feed's query (CONTRACT.md §7.5): fan-out on read, from PostgreSQL alone.

A post is written once, whoever follows its author, so a post by an account with a million
followers costs what anyone's costs. A feed page is read at request time: no timeline to
rebuild, nothing that can lag behind a deactivation, a hidden post or a draft.

A page is one query (``feed_page``): the posts whose ids the database function below gives,
with their owners, read by primary key with the visibility rule stated again, in one statement,
so one snapshot. Its two halves are also functions of their own, each one query (``feed_ids``,
``feed_posts``), which bench/feed.py times apart. The ids come from the database function
``follows_feed_ids`` (``INSTALL`` below, installed by follows/migrations/0003_*): it reads the
number of the caller's followees off their ``FolloweeSet`` (follows/models.py: the sorted ids of
everyone they follow, kept by the follows' triggers), then runs one of three plans, whichever
costs least for that number (each gives the same page):

- **merge**, below FEW_FOLLOWEES followees: for the caller and each active followee, the first
  ``limit`` posts after the cursor off the partial index ``post_feed`` (owner, created_at DESC,
  id DESC; published and not hidden), then the newest ``limit`` of those;
- **walk with a hash**, from FEW_FOLLOWEES to MANY_FOLLOWEES: the index ``post_feed_walk``
  (created_at DESC, id DESC, carrying owner_id; published and not hidden) read from the cursor
  without visiting the table, keeping the posts whose author the caller follows (a hash of their
  ids, built per page from follow_once);
- **walk with a binary search**, from MANY_FOLLOWEES on: the same walk, each post's author
  looked up in the caller's followee set, read once per page.

The merge reads about ``(followees + 1) * limit`` index entries in as many index descents; the
walks about ``limit`` times (all posts / the followees' posts) entries. The function's
statements are planned once per database connection (``plan_cache_mode = force_generic_plan``:
the shape of each plan does not depend on the caller), so a page pays no planning; without JIT
compilation and parallel workers, which a generic plan's estimates (a tenth of all posts for
``LIMIT page``) would ask for on every page. At 10M posts and a million users (bench/RESULTS.md),
a page's ids for a reader of 10,000 followees (about 1,460 posts read) cost 0.5 ms with the binary
search, 1.7 ms with a probe of the follows' unique index per post (the design it replaced), and
3 to 3.5 ms with a hash of the 10,000 ids (reading them alone takes 1.2 ms); for a reader of
1,000 (about 11,000 posts read) the hash takes 1.4 ms, the binary search 1.6 ms, and the merge
about 10 ms. Weak spot: a caller who follows hundreds of users who rarely post makes the walk
read far down the index before a page is full.
"""

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from api.compiled import CompiledQuery
from api.paging import NEXT, PREV, Ordering
from posts.models import Post

ORDERING = Ordering("feed", ("created_at", "id"))

#: Below this many followees a page merges each author's newest posts (LATERAL); from it on,
#: it walks the newest-first index (see the module docstring).
FEW_FOLLOWEES = 300
#: From this many followees on, the walk looks each candidate post's author up in the reader's
#: followee set (a binary search) instead of hashing all the followees first.
MANY_FOLLOWEES = 2_000

# The page's three plans in each direction ({op}: "<" older, newest first; ">" newer, oldest
# first). Positions outside any post's (infinity) stand for "from the start".
_MERGE = """
    SELECT p.id FROM (
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
    SELECT p.id FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) {op} (position_at, position_id)
      AND (p.owner_id = reader OR p.owner_id IN (SELECT f.followee_id FROM follows_follow f WHERE f.follower_id = reader))
    ORDER BY p.created_at {order}, p.id {order} LIMIT page"""
# The reader's followee set (follows.models.FolloweeSet), read once per page (an InitPlan: the
# array's copy in memory, never read from its table again), and a binary search of it per
# candidate row (width_bucket: the index of the greatest element not above the author's id).
_FOLLOWEES = "(SELECT array_cat(s.followees, '{{}}') FROM follows_followeeset s WHERE s.user_id = reader)"
_WALK_SEARCH = f"""
    SELECT p.id FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) {{op}} (position_at, position_id)
      AND (p.owner_id = reader OR {_FOLLOWEES}[width_bucket(p.owner_id, {_FOLLOWEES})] = p.owner_id)
    ORDER BY p.created_at {{order}}, p.id {{order}} LIMIT page"""  # noqa: S608 (constants only)


def _plans(op: str, order: str) -> str:
    merge, walk_hash, walk_search = (
        sql.format(op=op, order=order) for sql in (_MERGE, _WALK_HASH, _WALK_SEARCH)
    )
    return f"""
        IF followees < few THEN RETURN QUERY {merge};
        ELSIF followees < many THEN RETURN QUERY {walk_hash};
        ELSE RETURN QUERY {walk_search};
        END IF;"""


#: ``follows_feed_ids(reader, position_at, position_id, newer, page, few, many)``: the ids of up
#: to `page` posts of `reader`'s feed after the position (created_at, id): older ones newest first,
#: or with `newer` newer ones oldest first. `few` and `many`: FEW_FOLLOWEES and MANY_FOLLOWEES.
#: STABLE: its queries see the snapshot of the statement that calls it.
INSTALL = f"""
CREATE OR REPLACE FUNCTION follows_feed_ids(
    reader bigint, position_at timestamptz, position_id bigint, newer boolean, page integer, few integer, many integer
) RETURNS SETOF bigint LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET max_parallel_workers_per_gather = 0 SET jit = off AS $$
DECLARE
    followees integer;
BEGIN
    SELECT coalesce((SELECT s.count FROM follows_followeeset s WHERE s.user_id = reader), 0) INTO followees;
    IF newer THEN {_plans(">", "ASC")}
    ELSE {_plans("<", "DESC")}
    END IF;
END $$;
"""  # noqa: S608 (constants only)
REMOVE = "DROP FUNCTION follows_feed_ids(bigint, timestamptz, bigint, boolean, integer, integer, integer)"

_IDS = "SELECT id FROM follows_feed_ids(%s, %s::timestamptz, %s, %s, %s, %s, %s) WITH ORDINALITY AS f(id, n) ORDER BY n"
# Where a page without a position starts: before every post (NEXT) or after every post (PREV).
_START = {NEXT: ("infinity", 2**63 - 1), PREV: ("-infinity", -(2**63))}


def feed_ids(
    user_id: int, *, position: tuple[datetime, int] | tuple[()] | None, direction: str, limit: int
) -> list[int]:
    """The ids of up to `limit` posts of the user's feed (published, not hidden, by the user or
    an active user they follow) after `position` in `direction`, in that direction's order (NEXT:
    older, newest first, from the newest without a position; PREV: newer, oldest first, from the
    oldest without one). One query (``follows_feed_ids``)."""
    at, after = position or _START[direction]
    params = [user_id, at, after, direction != NEXT, limit, FEW_FOLLOWEES, MANY_FOLLOWEES]
    with connection.cursor() as cursor:
        cursor.execute(_IDS, params)
        return [row[0] for row in cursor.fetchall()]


def _posts_in(ids: RawSQL) -> QuerySet[Post]:
    """The posts whose id `ids` (a subquery) gives that a feed may show (published, not hidden,
    their author active), with their owners and their counts: the visibility rule of a page."""
    return (
        Post.objects.select_related("owner")
        .filter(id__in=ids, published=True, hidden=False, owner__is_active=True)
        .with_vote_count()
    )


#: The posts of a page by id, compiled once per process (api/compiled.py); ``ids`` is run with
#: a list of ids (an array: ``unnest`` takes any length).
_POSTS = CompiledQuery(lambda ids: _posts_in(RawSQL("SELECT unnest(%s::bigint[])", [ids])), "ids")

#: A page's posts in one statement: ``_POSTS``'s, of the ids ``follows_feed_ids`` gives (the
#: function runs in the statement's snapshot, so the two agree on every row).
_PAGE = CompiledQuery(
    lambda user_id, at, after, newer, page, few, many: _posts_in(
        RawSQL(
            "SELECT f.id FROM follows_feed_ids(%s, %s::timestamptz, %s, %s, %s, %s, %s) AS f(id)",
            [user_id, at, after, newer, page, few, many],
        )
    ),
    "user_id",
    "at",
    "after",
    "newer",
    "page",
    "few",
    "many",
)


def feed_page(
    user_id: int, *, position: tuple[datetime, int] | tuple[()] | None, direction: str, limit: int
) -> list[Post]:
    """The posts of ``feed_ids(user_id, position=..., direction=..., limit=...)`` as
    ``feed_posts`` gives them (owners and counts; in the direction's order: NEXT newest first,
    PREV oldest first), in one statement (``_PAGE``) where the two take two."""
    at, after = position or _START[direction]
    posts = _PAGE.run(
        user_id=user_id,
        at=at,
        after=after,
        newer=direction != NEXT,
        page=limit,
        few=FEW_FOLLOWEES,
        many=MANY_FOLLOWEES,
    )
    posts.sort(key=lambda post: (post.created_at, post.pk), reverse=direction == NEXT)
    return posts


def feed_posts(ids: list[int]) -> list[Post]:
    """The posts of `ids` still in a feed (published, not hidden, their author active), with
    their owners and their counts (``with_vote_count``), in the order of `ids`. One query, by
    primary key, its SQL compiled once (``_POSTS``)."""
    if not ids:
        return []
    found = _POSTS.run(ids=ids)  # the stand-in of _POSTS's RawSQL takes the list
    by_id = {post.pk: post for post in found}
    return [by_id[i] for i in ids if i in by_id]
