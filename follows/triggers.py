"""The followee sets' database rules: ``FolloweeSet`` (follows/models.py) holds, for each user who
follows anyone, the ids of everyone they follow, sorted, and only the follows change it.

``follows_followee_sets`` (AFTER INSERT, DELETE, UPDATE and TRUNCATE ON follows_follow, per
statement, with the statement's rows as transition tables) applies each statement's follows to
the sets of their followers:

- added rows: merged into the follower's set (a row made for a first follow), duplicates dropped;
- removed rows (an unfollow, a cascade from a deleted user, either end): taken out of it;
- an UPDATE: both; a TRUNCATE: every set emptied.

It runs in the transaction of the write that fires it, whoever writes (the API, a cascade, raw
SQL, ``manage.py seed``'s COPY), so a set is exactly its follower's follows in every snapshot. Two
transactions writing one follower's follows wait on the set's row: an addition merges its rows
into the version the other committed (``ON CONFLICT DO UPDATE`` reads the newest version of the
row it waits for), a removal reads the follows again once it holds the row, so neither's change
is lost. Every statement takes the sets' rows in the order of their ids, so two statements never
wait on each other in a cycle; and the follows' foreign keys are checked at once, not at commit
(migration 0003), so a follow holds its users' key-share locks before it takes its follower's set:
deleting that user waits for the follow to end instead of deadlocking with its commit-time check.

The SQL is installed by the migrations that import it (``follows/migrations/0003_*``); a change
here ships in a new migration that runs ``INSTALL`` again. Earlier migrations keep the SQL they
shipped, as applied migrations must.
"""

TRIGGER_NAMES = ("follows_followee_sets_added", "follows_followee_sets_removed", "follows_followee_sets_moved",
                 "follows_followee_sets_truncated")  # fmt: skip

# The rows added to follows (transition table `added`) merged into their followers' sets, the
# sets' rows taken in the order of their ids (as _REMOVE takes them: no two statements wait on
# each other in a cycle).
_ADD = """
        INSERT INTO follows_followeeset AS s (user_id, followees, count)
        SELECT follower_id, array_agg(DISTINCT followee_id ORDER BY followee_id), count(DISTINCT followee_id)
        FROM added GROUP BY follower_id ORDER BY follower_id
        ON CONFLICT (user_id) DO UPDATE SET (followees, count) = (
            SELECT array_agg(x ORDER BY x), count(*) FROM (SELECT DISTINCT unnest(s.followees || EXCLUDED.followees)) AS d(x)
        );"""
# The followers of the rows removed from follows (transition table `removed`): their sets' rows
# locked in the order of their ids, then each set read again from the follows. The second
# statement's snapshot is taken once the locks are held, so it sees every follow committed by a
# transaction that held one of these rows before; one still running is merged in by its own
# statement once this transaction ends. Reading a follower's follows costs what they are (an
# index range), whatever the number of rows removed: a user with a million followers deleted is
# a million small reads, not a million scans of the removed rows.
_REMOVE = """
        PERFORM 1 FROM follows_followeeset s WHERE s.user_id IN (SELECT follower_id FROM removed)
        ORDER BY s.user_id FOR UPDATE;
        UPDATE follows_followeeset s SET (followees, count) = (
            SELECT coalesce(array_agg(f.followee_id ORDER BY f.followee_id), '{}'), count(*)
            FROM follows_follow f WHERE f.follower_id = s.user_id
        )
        WHERE s.user_id IN (SELECT follower_id FROM removed);"""

INSTALL = f"""
CREATE OR REPLACE FUNCTION follows_followee_sets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM follows_followeeset;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN {_REMOVE}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_ADD}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER follows_followee_sets_added AFTER INSERT ON follows_follow
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION follows_followee_sets();
CREATE TRIGGER follows_followee_sets_removed AFTER DELETE ON follows_follow
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION follows_followee_sets();
CREATE TRIGGER follows_followee_sets_moved AFTER UPDATE ON follows_follow
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION follows_followee_sets();
CREATE TRIGGER follows_followee_sets_truncated AFTER TRUNCATE ON follows_follow
    FOR EACH STATEMENT EXECUTE FUNCTION follows_followee_sets();
"""  # noqa: S608 (constants only)

REMOVE = "".join(f"DROP TRIGGER {name} ON follows_follow;\n" for name in TRIGGER_NAMES) + (
    "DROP FUNCTION follows_followee_sets();"
)

#: Every user's set from the follows as they are (the migration that installs the triggers runs
#: it after them, in the same transaction: the triggers' lock on follows keeps writes out meanwhile).
FILL = """
INSERT INTO follows_followeeset (user_id, followees, count)
SELECT follower_id, array_agg(followee_id ORDER BY followee_id), count(*) FROM follows_follow GROUP BY follower_id
ON CONFLICT (user_id) DO UPDATE SET (followees, count) = (EXCLUDED.followees, EXCLUDED.count);
"""

# The follows' foreign keys, checked at the end of each statement instead of at commit (Django
# makes them DEFERRABLE INITIALLY DEFERRED): see the module's docstring. A migration that
# recreates them (an AlterField of follower or followee) must run IMMEDIATE_KEYS again.
_KEYS = """
DO $$
DECLARE
    key record;
BEGIN
    FOR key IN SELECT conname FROM pg_constraint WHERE conrelid = 'follows_follow'::regclass AND contype = 'f' LOOP
        EXECUTE format('ALTER TABLE follows_follow ALTER CONSTRAINT %I {}', key.conname);
    END LOOP;
END $$;
"""
IMMEDIATE_KEYS = _KEYS.format("NOT DEFERRABLE")
DEFERRED_KEYS = _KEYS.format("DEFERRABLE INITIALLY DEFERRED")
