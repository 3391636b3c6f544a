"""The database rule on ``Post.hidden``: only a transaction that says so may change it.

An owner's edit or a staff edit that read the post before it was hidden saves the whole row;
the trigger keeps the stored ``hidden`` for such writers, so a hidden post stays hidden. The
one writer that may change it opens ``hidden_writable()`` (moderation/services.py does, for its
hide and restore actions).

The SQL is installed by the migrations that import it (``posts/migrations/0005_*``); a change
here ships in a new migration that runs ``INSTALL`` again. Migrations before 0005 keep the SQL
they shipped, as applied migrations must.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

#: The transaction-local setting that lets a write change ``hidden`` (``set_config(..., true)``).
HIDDEN_WRITABLE = "posts.hidden_writable"
HIDDEN_GUARD = "post_hidden_guard"

INSTALL = f"""
CREATE OR REPLACE FUNCTION posts_post_guard_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{HIDDEN_WRITABLE}', true) IS DISTINCT FROM 'on' THEN
        NEW.hidden := OLD.hidden;
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS {HIDDEN_GUARD} ON posts_post;
CREATE TRIGGER {HIDDEN_GUARD} BEFORE UPDATE OF hidden ON posts_post
    FOR EACH ROW WHEN (OLD.hidden IS DISTINCT FROM NEW.hidden) EXECUTE FUNCTION posts_post_guard_hidden();
"""


@contextmanager
def hidden_writable() -> Iterator[None]:
    """Run the block in a transaction (``transaction.atomic()``) in which ``Post.hidden`` may change.

    The permission ends with the block, also when an outer transaction goes on; on an error,
    the block's rollback undoes it.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [HIDDEN_WRITABLE])
        yield
        cursor.execute("SELECT set_config(%s, 'off', true)", [HIDDEN_WRITABLE])
