"""The thread's rules in the database (comments/triggers.py)."""

from django.db import migrations

from comments import triggers


class Migration(migrations.Migration):
    dependencies = [("comments", "0001_initial")]

    operations = [migrations.RunSQL(triggers.INSTALL, triggers.REMOVE)]
