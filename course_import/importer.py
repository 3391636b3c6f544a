"""Import the database of a running deployment of the original course API (FastAPI + alembic).

The source is read as one snapshot (course_import/source.py). Rows are streamed with COPY into
temporary staging tables in this backend's database, checked there (course_import/checks.py),
and moved into the real tables with INSERT ... SELECT ... ON CONFLICT DO NOTHING, all inside
the caller's transaction. Votes go in with the vote counter suspended and each post's count is
set once afterwards (votes/counter.py).
"""

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper

from accounts.models import User
from course_import.checks import normalize_emails, refuse_foreign_rows, skip_conflicts
from course_import.result import ImportResult, TableCounts
from course_import.source import SOURCE_COLUMNS, Progress, check_source_schema, copy_table
from course_import.tables import STAGING, target_sql
from posts.models import Post
from votes import counter

# passlib's bcrypt: "$2b$12$" and 53 characters of salt and checksum.
BCRYPT_HASH = r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$"


def run_import(source: psycopg.Connection, *, dry_run: bool, progress: Progress) -> ImportResult:
    """Stage, check and insert; return what was (or, on a dry run, would be) imported.

    Call inside ``transaction.atomic()`` on the default database; a dry run leaves the rollback
    to the caller. Raises ``ImportRefused`` (course_import/source.py) for a source that is not
    the original's schema or rows here that clash with the source's; psycopg's and Django's
    database errors pass through.
    """
    result = ImportResult(revision=check_source_schema(source), dry_run=dry_run)
    with connection.cursor() as cursor:
        # Writers wait until the import commits: a signup now could take an id the import needs.
        cursor.execute(target_sql("LOCK TABLE {users}, {posts}, {votes} IN SHARE ROW EXCLUSIVE MODE"))
        # One row each (aggregates): unpacking says so to the type checker, and checks it.
        [totals] = source.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), (SELECT count(*) FROM votes)"
        ).fetchall()
        # Skipped rows' ids count too: a later run may bring them in, ids unchanged.
        [top_ids] = source.execute(
            "SELECT (SELECT max(id) FROM users), (SELECT max(id) FROM posts)"
        ).fetchall()
        for (name, columns), total in zip(list(SOURCE_COLUMNS.items())[:3], totals, strict=True):
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGING[name]} ON COMMIT DROP")
            getattr(result, name).source = copy_table(source, cursor, name, columns, total, progress)
        normalize_emails(cursor)
        progress("checking for conflicts")
        cursor.execute("ANALYZE course_users, course_posts, course_votes")
        skip_conflicts(cursor, result)
        refuse_foreign_rows(cursor)
        _insert(cursor, result, dry_run, progress)
        if not dry_run:
            _move_sequences(cursor, top_ids)
            # Fresh statistics, so the first requests after a large import get good plans.
            cursor.execute(target_sql("ANALYZE {users}, {posts}, {votes}"))
        cursor.execute(
            "DROP TABLE course_users, course_posts, course_votes, course_skipped_users, course_skipped_posts"
        )
    return result


# Per table: the insert, and for --dry-run the count of staged rows that are here already.
INSERTS = {
    "users": (
        "INSERT INTO {users} (id, email, password, date_joined, is_superuser, is_staff, is_active)"
        " SELECT id, lower(btrim(email)),"
        # Django's bcrypt hasher reads "bcrypt$" + the hash; anything else cannot be checked.
        " CASE WHEN password ~ %(bcrypt)s THEN 'bcrypt$' || password ELSE '!' || md5(random()::text) END,"
        " created_at, false, false, true FROM course_users ON CONFLICT DO NOTHING",
        "SELECT count(*) FROM course_users s WHERE EXISTS (SELECT FROM {users} t WHERE t.id = s.id)",
    ),
    "posts": (
        "INSERT INTO {posts} (id, title, content, owner_id, published, created_at)"
        " SELECT id, title, content, owner_id, published, created_at FROM course_posts"
        " ON CONFLICT DO NOTHING",
        "SELECT count(*) FROM course_posts s WHERE EXISTS (SELECT FROM {posts} t WHERE t.id = s.id)",
    ),
    "votes": (
        # The original keeps no vote times: a vote's time here is the import's.
        "INSERT INTO {votes} (user_id, post_id, created_at)"
        " SELECT user_id, post_id, now() FROM course_votes ON CONFLICT DO NOTHING",
        "SELECT count(*) FROM course_votes s"
        " WHERE EXISTS (SELECT FROM {votes} t WHERE t.user_id = s.user_id AND t.post_id = s.post_id)",
    ),
}


def _insert(cursor: CursorWrapper, result: ImportResult, dry_run: bool, progress: Progress) -> None:
    cursor.execute("SELECT count(*) FROM course_users WHERE password !~ %s", [BCRYPT_HASH])
    result.unusable_passwords = cursor.fetchone()[0]
    for name, (insert, count_present) in INSERTS.items():
        counts: TableCounts = getattr(result, name)
        staged = counts.source - counts.conflicting
        progress(f"{name}: {'counting' if dry_run else 'inserting'} {staged:,} rows")
        if dry_run:
            cursor.execute(target_sql(count_present))
            counts.already_here = cursor.fetchone()[0]
            counts.imported = staged - counts.already_here
        else:
            if name == "votes":
                counts.imported = _insert_votes(cursor, insert)
            else:
                cursor.execute(target_sql(insert), {"bcrypt": BCRYPT_HASH})
                counts.imported = cursor.rowcount
            counts.already_here = staged - counts.imported


def _insert_votes(cursor: CursorWrapper, insert: str) -> int:
    """Insert the votes and bring their posts' vote_total up to date; return the votes added."""
    # The counter's trigger would update a post once per vote: three million updates (and dead
    # post rows) for three million votes. It is off for the insert, and each post the source
    # has votes on is counted once. Exact: the import's lock keeps every other writer off the
    # votes table until it commits.
    with counter.suspended():
        cursor.execute(target_sql(insert))
        added = cursor.rowcount
        if added:
            cursor.execute("SELECT DISTINCT post_id FROM course_votes")
            counter.recount(post_id for (post_id,) in cursor.fetchall())
    return added


def _move_sequences(cursor: CursorWrapper, top_ids: tuple[int | None, int | None]) -> None:
    """Move the id sequences past every source id, so that new rows never collide."""
    for model, top in zip((User, Post), top_ids, strict=True):
        cursor.execute(
            "SELECT setval(seq, %(top)s) FROM (SELECT pg_get_serial_sequence(%(table)s, 'id')::regclass AS seq) s"
            " WHERE %(top)s > COALESCE(pg_sequence_last_value(seq), 0)",
            {"top": top, "table": connection.ops.quote_name(model._meta.db_table)},
        )
