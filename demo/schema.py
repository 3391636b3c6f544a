"""Dropping a table's indexes and constraints for a bulk load, and building them back as they were.

A COPY into a table with its indexes and foreign keys pays for each row in every index (in
random order) and in a foreign-key check; building an index from the loaded table sorts once,
and a foreign key added afterwards is checked by one join. What is dropped is read from the
catalog, so an index a later migration adds is never forgotten, and rebuilt by the catalog's own
statements (``pg_get_indexdef``, ``pg_get_constraintdef``): partial, expression, GIN and
trigram indexes, deferrable foreign keys, all as they were.

Dropped: every index but the primary key's, every unique (or exclusion) constraint no foreign
key depends on, and every foreign key of the tables (those of other tables pointing at them
stay: they need only the primary keys, which stay). Check constraints and triggers stay.
"""

import time

from django.db.backends.utils import CursorWrapper

from demo.models import PendingRebuild

# Foreign keys of the tables; unique and exclusion constraints, except those a foreign key relies on.
_CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, c.contype = 'f', pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.conrelid = ANY(%s::regclass[])
  AND (c.contype = 'f' OR (c.contype IN ('u', 'x') AND NOT EXISTS (
        SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)))
ORDER BY c.contype = 'f' DESC, c.conrelid, c.conname
"""
# Indexes that belong to no constraint, and that no foreign key relies on.
_INDEXES = """
SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(%s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
ORDER BY i.indrelid, i.indexrelid::regclass::text
"""


def drop_for_load(cursor: CursorWrapper, tables: list[str]) -> list[PendingRebuild]:
    """Drop the indexes and constraints of `tables` (quoted names) listed in the module's
    docstring, recording each in PendingRebuild, in the caller's transaction (so the drop and its
    record commit together). Returns the records."""
    cursor.execute(_CONSTRAINTS, [tables])
    constraints = cursor.fetchall()
    cursor.execute(_INDEXES, [tables])
    indexes = cursor.fetchall()
    quote = cursor.db.ops.quote_name
    pending = []
    # Foreign keys are dropped first (a unique constraint may be what one needs) and rebuilt last.
    for table, name, is_foreign_key, definition in constraints:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        statement = f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
        pending.append(
            PendingRebuild(table=table, name=name, statement=statement, is_foreign_key=is_foreign_key)
        )
    for table, name, definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
        pending.append(PendingRebuild(table=table, name=name, statement=definition, is_foreign_key=False))
    pending.sort(key=lambda p: p.is_foreign_key)
    return PendingRebuild.objects.bulk_create(pending)


def rebuild(
    cursor: CursorWrapper, *, work_mem: str = "512MB", parallel_workers: int = 1
) -> list[tuple[PendingRebuild, float]]:
    """Run every pending rebuild statement (indexes and unique constraints, then foreign keys,
    each checked against the rows) and delete the records, in the caller's transaction. Returns
    each record with the seconds its statement took.

    `work_mem` and `parallel_workers` are this transaction's ``maintenance_work_mem`` and
    ``max_parallel_maintenance_workers`` (the index builds' sort memory and helper processes).
    Raises the database's error (an index or key the rows break) and then deletes nothing.
    """
    cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [work_mem])
    cursor.execute("SELECT set_config('max_parallel_maintenance_workers', %s, true)", [str(parallel_workers)])
    done = []
    for pending in PendingRebuild.objects.order_by("id"):
        started = time.monotonic()
        cursor.execute(pending.statement)
        done.append((pending, time.monotonic() - started))
    PendingRebuild.objects.all().delete()
    return done
