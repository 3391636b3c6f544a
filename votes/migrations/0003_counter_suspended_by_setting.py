"""The counter's triggers stand aside under a transaction-local setting (votes/triggers.py), so
bulk loaders no longer disable them with ALTER TABLE and its ACCESS EXCLUSIVE lock."""

from django.db import migrations

from votes import triggers

# The functions as 0002 installed them, for migrating back (the triggers themselves are unchanged).
PREVIOUS = """
CREATE OR REPLACE FUNCTION votes_vote_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
    UPDATE posts_post SET vote_total = 0 WHERE vote_total <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION posts_post_guard_vote_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.vote_total := 0;
    ELSIF pg_trigger_depth() = 1 THEN
        NEW.vote_total := OLD.vote_total;
    END IF;
    RETURN NEW;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("votes", "0002_vote_counter")]

    operations = [migrations.RunSQL(triggers.INSTALL, PREVIOUS)]
