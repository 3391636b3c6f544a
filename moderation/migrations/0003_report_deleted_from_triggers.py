"""The queue's trigger, now declared in moderation/triggers.py; the same definition as 0001's."""

from django.db import migrations

from moderation import triggers


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_moderators_group")]

    operations = [migrations.RunSQL(triggers.INSTALL, migrations.RunSQL.noop)]
