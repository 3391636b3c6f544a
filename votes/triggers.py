"""The vote counter's database rules: ``Post.vote_total`` follows the votes, and only them.

- ``vote_count`` (AFTER INSERT OR DELETE ON votes_vote, per row): +1 / -1 on the post.
- ``vote_count_moved`` (AFTER UPDATE OF post_id ON votes_vote): -1 on the old post, +1 on the new.
- ``vote_count_truncate`` (AFTER TRUNCATE ON votes_vote): every count back to 0.
- ``post_vote_total_guard`` (BEFORE INSERT OR UPDATE OF vote_total ON posts_post): a new post
  starts at 0, and an UPDATE keeps the old count unless a vote trigger (one trigger level down)
  writes it, so a stale count saved with a post cannot stick. The counter owns this guard,
  though it sits on posts' table: the rule it keeps is the counter's.

They run in the transaction of the write that fires them, whoever writes: the API, the admin, a
cascade from a deleted post or user, raw SQL. Concurrent votes on one post queue on its row lock.

All four stand aside in a transaction that turned ``SUSPENDED`` on (``votes/counter.py``'s
``suspended()``, for bulk loaders): a session setting, so other sessions' triggers keep running
and no table lock is taken, unlike ``ALTER TABLE ... DISABLE TRIGGER`` (ACCESS EXCLUSIVE).

The SQL is installed by the migrations that import it (``votes/migrations/0003_*``); a change
here ships in a new migration that runs ``INSTALL`` again. Migrations before 0003 keep the SQL
they shipped, as applied migrations must.
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
CREATE OR REPLACE FUNCTION votes_vote_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT {_ACTIVE} THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE posts_post SET vote_total = vote_total - 1 WHERE id = OLD.post_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE posts_post SET vote_total = vote_total + 1 WHERE id = NEW.post_id;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION votes_vote_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_ACTIVE} THEN
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
