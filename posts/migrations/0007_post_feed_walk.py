from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking writes out of a table that may hold millions of posts.
    atomic = False

    dependencies = [
        ("posts", "0006_post_feed"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="post",
            index=models.Index(
                condition=models.Q(("hidden", False), ("published", True)),
                fields=["-created_at", "-id"],
                include=("owner",),
                name="post_feed_walk",
            ),
        ),
    ]
