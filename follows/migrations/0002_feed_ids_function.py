"""The feed's page ids as a database function, as it was first installed (follows/migrations/0003_*
replaces it with follows/feed.py's INSTALL)."""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION follows_feed_ids(
    reader bigint, position_at timestamptz, position_id bigint, newer boolean, page integer, few integer, many integer
) RETURNS SETOF bigint LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET max_parallel_workers_per_gather = 0 SET jit = off AS $$
DECLARE
    followees integer;
BEGIN
    SELECT count(*) INTO followees FROM (SELECT 1 FROM follows_follow WHERE follower_id = reader LIMIT many) c;
    IF newer THEN
        IF followees < few THEN RETURN QUERY
    SELECT p.id FROM (
        SELECT reader AS owner
        UNION ALL
        SELECT f.followee_id FROM follows_follow f
        JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
        WHERE f.follower_id = reader
    ) a
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts_post p
        WHERE p.owner_id = a.owner AND p.published AND NOT p.hidden AND (p.created_at, p.id) > (position_at, position_id)
        ORDER BY p.created_at ASC, p.id ASC LIMIT page
    ) p
    ORDER BY p.created_at ASC, p.id ASC LIMIT page;
        ELSIF followees < many THEN RETURN QUERY
    SELECT p.id FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) > (position_at, position_id)
      AND (p.owner_id = reader OR p.owner_id IN (SELECT f.followee_id FROM follows_follow f WHERE f.follower_id = reader))
    ORDER BY p.created_at ASC, p.id ASC LIMIT page;
        ELSE RETURN QUERY
    SELECT p.id FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) > (position_at, position_id)
      AND (p.owner_id = reader OR (SELECT true FROM follows_follow f WHERE f.follower_id = reader AND f.followee_id = p.owner_id))
    ORDER BY p.created_at ASC, p.id ASC LIMIT page;
        END IF;
    ELSE
        IF followees < few THEN RETURN QUERY
    SELECT p.id FROM (
        SELECT reader AS owner
        UNION ALL
        SELECT f.followee_id FROM follows_follow f
        JOIN accounts_user u ON u.id = f.followee_id AND u.is_active
        WHERE f.follower_id = reader
    ) a
    CROSS JOIN LATERAL (
        SELECT p.id, p.created_at FROM posts_post p
        WHERE p.owner_id = a.owner AND p.published AND NOT p.hidden AND (p.created_at, p.id) < (position_at, position_id)
        ORDER BY p.created_at DESC, p.id DESC LIMIT page
    ) p
    ORDER BY p.created_at DESC, p.id DESC LIMIT page;
        ELSIF followees < many THEN RETURN QUERY
    SELECT p.id FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) < (position_at, position_id)
      AND (p.owner_id = reader OR p.owner_id IN (SELECT f.followee_id FROM follows_follow f WHERE f.follower_id = reader))
    ORDER BY p.created_at DESC, p.id DESC LIMIT page;
        ELSE RETURN QUERY
    SELECT p.id FROM posts_post p
    JOIN accounts_user u ON u.id = p.owner_id AND u.is_active
    WHERE p.published AND NOT p.hidden AND (p.created_at, p.id) < (position_at, position_id)
      AND (p.owner_id = reader OR (SELECT true FROM follows_follow f WHERE f.follower_id = reader AND f.followee_id = p.owner_id))
    ORDER BY p.created_at DESC, p.id DESC LIMIT page;
        END IF;
    END IF;
END $$;"""  # noqa: S608 (constants only)
REMOVE = "DROP FUNCTION follows_feed_ids(bigint, timestamptz, bigint, boolean, integer, integer, integer)"


class Migration(migrations.Migration):
    dependencies = [("follows", "0001_initial"), ("posts", "0007_post_feed_walk")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
