"""Keep posts_post.vote_total equal to the number of the post's votes, in the database.

Triggers run in the same transaction as the write that fires them, whoever writes: the API,
the admin, a cascade from a deleted post or user, or raw SQL. Concurrent votes on one post
queue on its row lock, so none is lost. A guard on posts_post keeps any other writer (a post
saved with a stale count, an UPDATE by hand) from changing the count: only the vote triggers,
which run one trigger level down, may.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION votes_vote_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE posts_post SET vote_total = vote_total - 1 WHERE id = OLD.post_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE posts_post SET vote_total = vote_total + 1 WHERE id = NEW.post_id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION votes_vote_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts_post SET vote_total = 0 WHERE vote_total <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION posts_post_guard_vote_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.vote_total := 0;  -- a new post has no votes yet
    ELSIF pg_trigger_depth() = 1 THEN
        NEW.vote_total := OLD.vote_total;  -- not written by a vote trigger
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER vote_count AFTER INSERT OR DELETE ON votes_vote
    FOR EACH ROW EXECUTE FUNCTION votes_vote_count();
CREATE TRIGGER vote_count_moved AFTER UPDATE OF post_id ON votes_vote
    FOR EACH ROW WHEN (OLD.post_id IS DISTINCT FROM NEW.post_id) EXECUTE FUNCTION votes_vote_count();
CREATE TRIGGER vote_count_truncate AFTER TRUNCATE ON votes_vote
    FOR EACH STATEMENT EXECUTE FUNCTION votes_vote_count_truncate();
CREATE TRIGGER post_vote_total_guard BEFORE INSERT OR UPDATE OF vote_total ON posts_post
    FOR EACH ROW EXECUTE FUNCTION posts_post_guard_vote_total();
"""

BACKFILL = """
UPDATE posts_post p SET vote_total = c.n
FROM (SELECT post_id, count(*) AS n FROM votes_vote GROUP BY post_id) c
WHERE c.post_id = p.id;
"""

REVERSE = """
DROP TRIGGER post_vote_total_guard ON posts_post;
DROP TRIGGER vote_count_truncate ON votes_vote;
DROP TRIGGER vote_count_moved ON votes_vote;
DROP TRIGGER vote_count ON votes_vote;
DROP FUNCTION posts_post_guard_vote_total();
DROP FUNCTION votes_vote_count_truncate();
DROP FUNCTION votes_vote_count();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("votes", "0001_initial"),
        ("posts", "0002_post_vote_total"),
    ]

    operations = [
        # Count the existing votes first, while no guard is in the way, then install the
        # triggers; the migration's transaction (and lock on votes_vote) keeps the two exact.
        migrations.RunSQL("LOCK TABLE votes_vote IN SHARE MODE;" + BACKFILL, migrations.RunSQL.noop),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
