"""Each user's followees as one sorted array (FolloweeSet), kept by the follows' triggers
(follows/triggers.py), and the feed's page function testing authorship by a binary search of it
(follows/feed.py's INSTALL) instead of a probe of follow_once per post. Filling the sets reads
every follow once, in this migration's transaction: follows wait for it."""

import importlib

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from follows import feed, triggers

first = importlib.import_module("follows.migrations.0002_feed_ids_function")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_security_stamp"),
        ("follows", "0002_feed_ids_function"),
    ]

    operations = [
        migrations.CreateModel(
            name="FolloweeSet",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "followees",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), default=list
                    ),
                ),
                ("count", models.IntegerField(default=0)),
            ],
        ),
        # Stored uncompressed: a page reads the whole array once, without inflating it.
        migrations.RunSQL(
            "ALTER TABLE follows_followeeset ALTER followees SET STORAGE EXTERNAL", migrations.RunSQL.noop
        ),
        migrations.RunSQL(triggers.IMMEDIATE_KEYS, triggers.DEFERRED_KEYS),
        migrations.RunSQL(triggers.INSTALL, triggers.REMOVE),
        migrations.RunSQL(triggers.FILL, migrations.RunSQL.noop),
        migrations.RunSQL(feed.INSTALL, first.INSTALL),
    ]
