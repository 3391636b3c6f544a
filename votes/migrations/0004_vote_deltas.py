"""Votes on a post whose row another voter holds are appended as deltas instead of queueing
on the row (votes/triggers.py); reads add a post's deltas to its vote_total."""

import django.db.models.deletion
from django.db import migrations, models

from votes import triggers

# The functions as 0003 installed them, for migrating back. Pending deltas are lost then: run
# counter.recount() (or manage.py fold_votes first) before going back.
PREVIOUS = """
CREATE OR REPLACE FUNCTION votes_vote_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT current_setting('votes.counter_suspended', true) IS DISTINCT FROM 'on' THEN
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
    IF current_setting('votes.counter_suspended', true) IS DISTINCT FROM 'on' THEN
        UPDATE posts_post SET vote_total = 0 WHERE vote_total <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION posts_post_guard_vote_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT current_setting('votes.counter_suspended', true) IS DISTINCT FROM 'on' THEN
        RETURN NEW;  -- a bulk loader writes the counts itself
    ELSIF TG_OP = 'INSERT' THEN
        NEW.vote_total := 0;  -- a new post has no votes yet
    ELSIF pg_trigger_depth() = 1 THEN
        NEW.vote_total := OLD.vote_total;  -- not written by a vote trigger
    END IF;
    RETURN NEW;
END $$;

DROP FUNCTION IF EXISTS votes_count_change(bigint, integer);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0005_hidden_guard_keyed_on_posts"),
        ("votes", "0003_counter_suspended_by_setting"),
    ]

    operations = [
        migrations.CreateModel(
            name="VoteDelta",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("delta", models.SmallIntegerField()),
                (
                    "post",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="vote_deltas",
                        to="posts.post",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("delta__in", [-1, 1])), name="vote_delta_is_one"
                    )
                ],
            },
        ),
        migrations.RunSQL(triggers.INSTALL, PREVIOUS),
    ]
