"""The vote counter's database rules: a post's count is ``Post.vote_total`` plus its pending
``VoteDelta`` rows, and only the votes change them.

- ``vote_count`` (AFTER INSERT OR DELETE ON votes_vote, per row) and ``vote_count_moved`` (AFTER
  UPDATE OF post_id): +1 / -1 on the post through ``votes_count_change``. It tries the post's row
  without waiting (``FOR NO KEY UPDATE SKIP LOCKED``): when it gets it, it adds the change and
  every committed delta of that post to ``vote_total`` and deletes those deltas; when another
  transaction holds the row (a viral post: many voters at once), it appends a ``VoteDelta`` row
  instead, which conflicts with nothing. So voters on one post no longer queue on its row lock,
  and a reader's one statement (``vote_total`` + the sum of the deltas it sees) counts exactly
  the votes committed before it: never more, never fewer, never negative.
- ``vote_count_truncate`` (AFTER TRUNCATE ON votes_vote): every count back to 0, no delta left.
- ``post_vote_total_guard`` (BEFORE INSERT OR UPDATE OF vote_total ON posts_post): a new post
  starts at 0, and an UPDATE keeps the old count unless a vote trigger (one trigger level down)
  writes it, so a stale count saved with a post cannot stick. The counter owns this guard,
  though it sits on posts' table: the rule it keeps is the counter's.

They run in the transaction of the write that fires them, whoever writes: the API, the admin, a
cascade from a deleted post or user, raw SQL. ``sort=top`` orders by ``vote_total`` (its index):
a post's pending deltas count in its ``votes`` at once, and in its rank when they are folded.

All of them stand aside in a transaction that turned ``SUSPENDED`` on (``votes/counter.py``'s
``suspended()``, for bulk loaders): a session setting, so other sessions' triggers keep running
and no table lock is taken, unlike ``ALTER TABLE ... DISABLE TRIGGER`` (ACCESS EXCLUSIVE).

The SQL is installed by the migrations that import it (``votes/migrations/0004_*``); a change
here ships in a new migration that runs ``INSTALL`` again. Earlier migrations keep the SQL they
shipped, as applied migrations must.
"""

#: The transaction-local setting under which the counter's triggers do nothing.
SUSPENDED = "votes.counter_suspended"

VOTE_COUNT = "vote_count"
VOTE_COUNT_MOVED = "vote_count_moved"
VOTE_COUNT_TRUNCATE = "vote_count_truncate"
GUARD = "post_vote_total_guard"
#: Trigger names by the table they are on.
TRIGGERS = {"votes_vote": (VOTE_COUNT, VOTE_COUNT_MOVED, VOTE_COUNT_TRUNCATE), "posts_post": (GUARD,)}

_ACTIVE = f"current_setting('{SUSPENDED}', true) IS DISTINCT FROM 'on'"

INSTALL = f"""
CREATE OR REPLACE FUNCTION votes_count_change(post bigint, change integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    pending bigint;
BEGIN
    PERFORM 1 FROM posts_post WHERE id = post FOR NO KEY UPDATE SKIP LOCKED;
    IF FOUND THEN
        -- This transaction holds the row: no other can fold these deltas meanwhile.
        WITH folded AS (DELETE FROM votes_votedelta WHERE post_id = post RETURNING delta)
        SELECT coalesce(sum(delta), 0) INTO pending FROM folded;
        UPDATE posts_post SET vote_total = vote_total + change + pending WHERE id = post;
    ELSE
        -- Held by another voter; or gone (a cascade deleting the post): then nothing to count.
        INSERT INTO votes_votedelta (post_id, delta)
        SELECT post, change WHERE EXISTS (SELECT 1 FROM posts_post WHERE id = post);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION votes_vote_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT {_ACTIVE} THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM votes_count_change(OLD.post_id, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM votes_count_change(NEW.post_id, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION votes_vote_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_ACTIVE} THEN
        DELETE FROM votes_votedelta;
        UPDATE posts_post SET vote_total = 0 WHERE vote_total <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION posts_post_guard_vote_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT {_ACTIVE} THEN
        RETURN NEW;  -- a bulk loader writes the counts itself
    ELSIF TG_OP = 'INSERT' THEN
        NEW.vote_total := 0;  -- a new post has no votes yet
    ELSIF pg_trigger_depth() = 1 THEN
        NEW.vote_total := OLD.vote_total;  -- not written by a vote trigger
    END IF;
    RETURN NEW;
END $$;
"""  # noqa: S608 (only this module's constants are interpolated)
