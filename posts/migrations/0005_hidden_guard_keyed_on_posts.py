"""The hidden-post guard lets a write through on posts' own setting (posts/triggers.py), no
longer on one named after the moderation app."""

from django.db import migrations

from posts import triggers

# The function as 0004 installed it, for migrating back.
PREVIOUS = """
CREATE OR REPLACE FUNCTION posts_post_guard_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('moderation.acting', true) IS DISTINCT FROM 'on' THEN
        NEW.hidden := OLD.hidden;
    END IF;
    RETURN NEW;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("posts", "0004_post_hidden")]

    operations = [migrations.RunSQL(triggers.INSTALL, PREVIOUS)]
