"""The comments' database rules: the thread, kept for every writer (the API, the admin, a
cascade from a deleted post or user, raw SQL), in the transaction of the write that fires them.

- ``comment_parent_live`` (BEFORE INSERT): the post exists (locked against deletion until the
  insert commits; else constraint name ``comment_post_exists``), and a reply names a comment
  of the same post that is neither deleted nor hidden, else the insert fails with constraint name ``comment_parent_live``
  (the API's 422). The parent's row is locked as the counter's UPDATE locks it, so a reply and
  the parent's deletion are serialized: either the reply sees the parent gone, or the deletion
  sees the reply and leaves a tombstone.
- ``comment_reply_count`` (AFTER INSERT OR DELETE, and UPDATE OF parent_id): +1 / -1 on the
  parent's ``reply_count``. Concurrent replies queue on the parent's row lock; none is lost.
- ``comment_guard`` (BEFORE INSERT OR UPDATE): ``reply_count`` written by anything but the
  counter (trigger depth 1) keeps its old value (0 for a new comment); a comment whose owner is
  gone (a deleted account: ON DELETE SET NULL) is deleted; a deleted comment has no content and
  no owner.
- ``comment_tombstone_gone`` (AFTER UPDATE, when deleted with no reply left): the row is deleted,
  which in turn counts down its parent, so a chain of tombstones goes once its last reply does.

The SQL is installed by the migration that imports it (``comments/migrations/0002_*``); a change
here ships in a new migration that runs ``INSTALL`` again (its functions are ``CREATE OR
REPLACE``; a new trigger needs its own ``CREATE TRIGGER``).
"""

PARENT_LIVE = "comment_parent_live"
REPLY_COUNT = "comment_reply_count"
REPLY_COUNT_MOVED = "comment_reply_count_moved"
GUARD = "comment_guard"
TOMBSTONE_GONE = "comment_tombstone_gone"
#: Trigger names by the table they are on.
TRIGGERS = {"comments_comment": (PARENT_LIVE, REPLY_COUNT, REPLY_COUNT_MOVED, GUARD, TOMBSTONE_GONE)}
#: Constraint names the insert's trigger raises with (comments/services.py reads them).
PARENT_NOT_LIVE = "comment_parent_live"
POST_MISSING = "comment_post_exists"

INSTALL = """
CREATE OR REPLACE FUNCTION comments_parent_live() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    live boolean;
BEGIN
    -- The post is locked against deletion until this transaction ends (the foreign key's own
    -- check is deferred to the commit, too late for a clear answer).
    PERFORM 1 FROM posts_post WHERE id = NEW.post_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'post % does not exist', NEW.post_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'comment_post_exists';
    END IF;
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT post_id = NEW.post_id AND NOT deleted AND NOT hidden INTO live
        FROM comments_comment WHERE id = NEW.parent_id FOR NO KEY UPDATE;
    IF live IS NOT TRUE THEN
        RAISE EXCEPTION 'comment % is not a live comment of post %', NEW.parent_id, NEW.post_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'comment_parent_live';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION comments_reply_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.parent_id IS NOT NULL THEN
        UPDATE comments_comment SET reply_count = reply_count - 1 WHERE id = OLD.parent_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.parent_id IS NOT NULL THEN
        UPDATE comments_comment SET reply_count = reply_count + 1 WHERE id = NEW.parent_id;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION comments_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.reply_count := 0;  -- a new comment has no replies yet
    ELSE
        IF pg_trigger_depth() = 1 THEN
            NEW.reply_count := OLD.reply_count;  -- not written by the counter
        END IF;
        IF NEW.owner_id IS NULL AND OLD.owner_id IS NOT NULL THEN
            NEW.deleted := true;  -- its owner's account is gone
        END IF;
    END IF;
    IF NEW.deleted THEN
        NEW.content := '';
        NEW.owner_id := NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION comments_tombstone_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM comments_comment WHERE id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER comment_parent_live BEFORE INSERT ON comments_comment
    FOR EACH ROW EXECUTE FUNCTION comments_parent_live();
CREATE TRIGGER comment_reply_count AFTER INSERT OR DELETE ON comments_comment
    FOR EACH ROW EXECUTE FUNCTION comments_reply_count();
CREATE TRIGGER comment_reply_count_moved AFTER UPDATE OF parent_id ON comments_comment
    FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id) EXECUTE FUNCTION comments_reply_count();
CREATE TRIGGER comment_guard BEFORE INSERT OR UPDATE ON comments_comment
    FOR EACH ROW EXECUTE FUNCTION comments_guard();
CREATE TRIGGER comment_tombstone_gone AFTER UPDATE ON comments_comment
    FOR EACH ROW WHEN (NEW.deleted AND NEW.reply_count = 0) EXECUTE FUNCTION comments_tombstone_gone();
"""

REMOVE = """
DROP TRIGGER comment_tombstone_gone ON comments_comment;
DROP TRIGGER comment_guard ON comments_comment;
DROP TRIGGER comment_reply_count_moved ON comments_comment;
DROP TRIGGER comment_reply_count ON comments_comment;
DROP TRIGGER comment_parent_live ON comments_comment;
DROP FUNCTION comments_tombstone_gone();
DROP FUNCTION comments_guard();
DROP FUNCTION comments_reply_count();
DROP FUNCTION comments_parent_live();
"""
