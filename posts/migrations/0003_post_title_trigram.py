"""A trigram index for `search`: title__icontains is UPPER(title) LIKE UPPER('%term%'), which
this index serves for any term, rare ones included.

Only where the pg_trgm extension is available and may be created; elsewhere `search` works the
same, by scanning. The reverse drops the index and leaves the extension, which other objects
in the database may use.
"""

from django.db import migrations

from posts.extensions import ensure_extension


def create_index(apps, schema_editor) -> None:
    if ensure_extension(schema_editor.connection, "pg_trgm"):
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS post_title_trigram ON posts_post USING gin (UPPER(title) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor) -> None:
    schema_editor.execute("DROP INDEX IF EXISTS post_title_trigram")


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0002_post_vote_total"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
