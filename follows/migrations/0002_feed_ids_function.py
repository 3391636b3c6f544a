"""The feed's page ids as a database function (follows/feed.py's INSTALL)."""

from django.db import migrations

from follows import feed


class Migration(migrations.Migration):
    dependencies = [("follows", "0001_initial"), ("posts", "0007_post_feed_walk")]

    operations = [migrations.RunSQL(feed.INSTALL, feed.REMOVE)]
