"""The feed's page as follows/feed.py's INSTALL: ``follows_feed_page`` takes the number of the
reader's followees when the caller knows it, and answers the number it used with each post."""

import importlib

from django.db import migrations

from follows import feed

first = importlib.import_module("follows.migrations.0002_feed_ids_function")


class Migration(migrations.Migration):
    dependencies = [("follows", "0002_feed_ids_function")]

    operations = [
        migrations.RunSQL(first.REMOVE, first.INSTALL),
        migrations.RunSQL(feed.INSTALL, feed.REMOVE),
    ]
