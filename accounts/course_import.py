"""Import the database of a running deployment of the original course API (FastAPI + alembic).

The source is read in one REPEATABLE READ, READ ONLY transaction, so its three tables are one
consistent snapshot even while the original keeps serving. Rows are streamed with COPY into
temporary staging tables in this backend's database, checked there, and moved into the real
tables with INSERT ... SELECT ... ON CONFLICT DO NOTHING, all inside the caller's transaction.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from django.db import connection
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from accounts.models import User, UserManager
from posts.models import Post
from votes.models import Vote

# What the original's last migration leaves, and what this import reads of it.
SOURCE_COLUMNS = {
    "users": ("id", "email", "password", "created_at"),
    "posts": ("id", "title", "content", "owner_id", "published", "created_at"),
    "votes": ("user_id", "post_id"),
    "alembic_version": ("version_num",),
}
STAGING = {
    "users": "course_users (id bigint, email text, password text, created_at timestamptz)",
    "posts": (
        "course_posts (id bigint, title text, content text, owner_id bigint, published boolean,"
        " created_at timestamptz)"
    ),
    "votes": "course_votes (user_id bigint, post_id bigint)",
}
# passlib's bcrypt: "$2b$12$" and 53 characters of salt and checksum.
BCRYPT_HASH = r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$"
MAX_EXAMPLES = 5
TARGETS = {"users": User, "posts": Post, "votes": Vote}

Progress = Callable[[str], None]


class ImportRefused(Exception):
    """The import cannot go ahead; the message says why and nothing has been written."""


@dataclass
class TableCounts:
    source: int = 0
    imported: int = 0
    already_here: int = 0
    conflicting: int = 0


@dataclass
class ImportResult:
    revision: str
    dry_run: bool
    users: TableCounts = field(default_factory=TableCounts)
    posts: TableCounts = field(default_factory=TableCounts)
    votes: TableCounts = field(default_factory=TableCounts)
    conflicting_emails: list[tuple[int, str]] = field(default_factory=list)
    unusable_passwords: int = 0


def describe_source(conninfo: str) -> str:
    """The source's host, port and database name, never its password, for messages."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "the source database"
    host = params.get("host") or "localhost"
    return f"{params.get('dbname') or params.get('user') or '?'} on {host}:{params.get('port') or 5432}"


def connect_source(conninfo: str) -> psycopg.Connection:
    try:
        source = psycopg.connect(conninfo, connect_timeout=10)
    except psycopg.ProgrammingError as exc:
        raise ImportRefused(f"The source database URL is not valid: {exc}") from exc
    except psycopg.OperationalError as exc:
        raise ImportRefused(f"Cannot connect to {describe_source(conninfo)}: {exc}".strip()) from exc
    # One snapshot of all three tables, and a guarantee that the import never writes there.
    source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    source.read_only = True
    return source


def check_source_schema(source: psycopg.Connection) -> str:
    """Refuse a source that is not the original's schema; return its alembic revision."""
    rows = source.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ANY(%s)",
        [list(SOURCE_COLUMNS)],
    ).fetchall()
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    missing = []
    for table, columns in SOURCE_COLUMNS.items():
        if table not in present:
            missing.append(f"table {table}")
        else:
            missing += [f"column {table}.{c}" for c in columns if c not in present[table]]
    if missing:
        raise ImportRefused(
            "The source is not the original course API's database (missing "
            + ", ".join(missing)
            + "). Point the command at the database that the original's alembic migrations built."
        )
    revision = source.execute("SELECT version_num FROM alembic_version LIMIT 1").fetchone()
    return revision[0] if revision else "none"


def run_import(source: psycopg.Connection, *, dry_run: bool, progress: Progress) -> ImportResult:
    """Stage, check and insert. Call inside transaction.atomic() on the default database."""
    result = ImportResult(revision=check_source_schema(source), dry_run=dry_run)
    with connection.cursor() as cursor:
        # Writers wait until the import commits: a signup now could take an id the import needs.
        cursor.execute(_sql("LOCK TABLE {users}, {posts}, {votes} IN SHARE ROW EXCLUSIVE MODE"))
        totals = source.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), (SELECT count(*) FROM votes)"
        ).fetchone()
        # Skipped rows' ids count too: a later run may bring them in, ids unchanged.
        top_ids = source.execute("SELECT (SELECT max(id) FROM users), (SELECT max(id) FROM posts)").fetchone()
        for (name, columns), total in zip(list(SOURCE_COLUMNS.items())[:3], totals, strict=True):
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGING[name]} ON COMMIT DROP")
            getattr(result, name).source = _copy(source, cursor, name, columns, total, progress)
        _normalize_emails(cursor)
        progress("checking for conflicts")
        cursor.execute("ANALYZE course_users, course_posts, course_votes")
        _find_conflicts(cursor, result)
        _refuse_foreign_rows(cursor)
        _insert(cursor, result, dry_run, progress)
        if not dry_run:
            _move_sequences(cursor, top_ids)
            # Fresh statistics, so the first requests after a large import get good plans.
            cursor.execute(_sql("ANALYZE {users}, {posts}, {votes}"))
        cursor.execute(
            "DROP TABLE course_users, course_posts, course_votes, course_skipped_users, course_skipped_posts"
        )
    return result


def _copy(
    source: psycopg.Connection, cursor, name: str, columns: tuple[str, ...], total: int, progress: Progress
) -> int:
    """Stream one table from the source into its staging table; return the number of rows."""
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    copy_out = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(column_list, sql.Identifier(name))
    rows, last_report = 0, time.monotonic()
    with (
        source.cursor().copy(copy_out) as reader,
        cursor.copy(f"COPY course_{name} FROM STDIN") as writer,
    ):
        for chunk in reader:
            writer.write(chunk)
            # Text format ends every row with a newline and escapes the ones inside values.
            rows += bytes(chunk).count(b"\n")
            if time.monotonic() - last_report >= 2:
                progress(_copied(name, rows, total))
                last_report = time.monotonic()
    progress(_copied(name, rows, total))
    return rows


def _copied(name: str, rows: int, total: int) -> str:
    return f"{name}: {rows:,} of {total:,} rows read" + (f" ({100 * rows // total}%)" if total else "")


def _normalize_emails(cursor) -> None:
    """Give staged addresses the form signup and login use (UserManager.normalize_email) where
    SQL's lower(btrim(email)), applied from here on, would not: addresses with anything but
    printable ASCII (other whitespace, Unicode) or with an xn-- label."""
    cursor.execute(r"SELECT id, email FROM course_users WHERE email ~ '[^!-~]' OR email ~* 'xn--'")
    changed = [
        (normalized, user_id)
        for user_id, email in cursor.fetchall()
        if (normalized := UserManager.normalize_email(email)) != email
    ]
    cursor.executemany("UPDATE course_users SET email = %s WHERE id = %s", changed)


def _find_conflicts(cursor, result: ImportResult) -> None:
    """Emails that differ only by case: neither user is imported, nor what depends on them."""
    cursor.execute(
        """
        CREATE TEMPORARY TABLE course_skipped_users ON COMMIT DROP AS
        SELECT id, email FROM (
            SELECT id, email, count(*) OVER (PARTITION BY lower(btrim(email))) AS same
            FROM course_users
        ) counted WHERE same > 1
        """
    )
    cursor.execute("SELECT id, email FROM course_skipped_users ORDER BY lower(btrim(email)), id")
    result.conflicting_emails = list(cursor.fetchall())
    cursor.execute("CREATE TEMPORARY TABLE course_skipped_posts (id bigint) ON COMMIT DROP")
    if not result.conflicting_emails:
        return
    cursor.execute("DELETE FROM course_users WHERE id IN (SELECT id FROM course_skipped_users)")
    result.users.conflicting = cursor.rowcount
    # Their posts, and every vote by them or on their posts, would break foreign keys here.
    cursor.execute(
        "WITH gone AS (DELETE FROM course_posts p USING course_skipped_users k"
        " WHERE p.owner_id = k.id RETURNING p.id) INSERT INTO course_skipped_posts SELECT id FROM gone"
    )
    result.posts.conflicting = cursor.rowcount
    cursor.execute(
        "DELETE FROM course_votes WHERE user_id IN (SELECT id FROM course_skipped_users)"
        " OR post_id IN (SELECT id FROM course_skipped_posts)"
    )
    result.votes.conflicting = cursor.rowcount


def _sql(template: str) -> str:
    """The template with this backend's table names, quoted, in {users}, {posts} and {votes}."""
    quote = connection.ops.quote_name
    return template.format(**{name: quote(model._meta.db_table) for name, model in TARGETS.items()})


def _refuse_foreign_rows(cursor) -> None:
    """Rows here that share an id or an email with the source but are not the same rows."""
    # No ORDER BY: with the LIMIT it can lead the planner into a nested loop over both tables.
    checks = [
        (
            "SELECT s.id, t.email, s.email FROM course_users s JOIN {users} t ON t.id = s.id"
            " WHERE t.email <> lower(btrim(s.email)) LIMIT %s",
            "user {0} here is {1}, but in the source user {0} is {2}",
        ),
        (
            # Same id and address, another account: made here (e.g. signed up through the API).
            "SELECT s.id, t.email, t.date_joined, s.created_at FROM course_users s JOIN {users} t"
            " ON t.id = s.id WHERE t.email = lower(btrim(s.email)) AND t.date_joined <> s.created_at LIMIT %s",
            "user {0} ({1}) was created here at {2:%Y-%m-%d %H:%M:%S}, not imported from the source"
            " (where it joined at {3:%Y-%m-%d %H:%M:%S})",
        ),
        (
            "SELECT t.email, t.id, s.id FROM course_users s JOIN {users} t"
            " ON t.email = lower(btrim(s.email)) WHERE t.id <> s.id LIMIT %s",
            "{0} is user {1} here but user {2} in the source",
        ),
        (
            "SELECT s.id FROM course_posts s JOIN {posts} t ON t.id = s.id"
            " WHERE t.owner_id <> s.owner_id OR t.created_at <> s.created_at LIMIT %s",
            "post {0} here is not post {0} of the source",
        ),
    ]
    problems = []
    for query, message in checks:
        cursor.execute(_sql(query), [MAX_EXAMPLES])
        problems += [message.format(*row) for row in sorted(cursor.fetchall())]
    if problems:
        raise ImportRefused(
            "This database already holds users or posts that did not come from this source: "
            + "; ".join(problems)
            + ". Import into a freshly migrated, empty database."
        )


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


def _insert(cursor, result: ImportResult, dry_run: bool, progress: Progress) -> None:
    cursor.execute("SELECT count(*) FROM course_users WHERE password !~ %s", [BCRYPT_HASH])
    result.unusable_passwords = cursor.fetchone()[0]
    for name, (insert, count_present) in INSERTS.items():
        counts: TableCounts = getattr(result, name)
        staged = counts.source - counts.conflicting
        progress(f"{name}: {'counting' if dry_run else 'inserting'} {staged:,} rows")
        if dry_run:
            cursor.execute(_sql(count_present))
            counts.already_here = cursor.fetchone()[0]
            counts.imported = staged - counts.already_here
        else:
            if name == "votes":
                counts.imported = _insert_votes(cursor, insert)
            else:
                cursor.execute(_sql(insert), {"bcrypt": BCRYPT_HASH})
                counts.imported = cursor.rowcount
            counts.already_here = staged - counts.imported


# Each post's votes counted once, for the posts the source has votes on. Exact: the import's
# lock keeps every other writer off the votes table until it commits.
RECOUNT = (
    "UPDATE {posts} p SET vote_total = c.n FROM ("
    " SELECT v.post_id, count(*) AS n FROM {votes} v"
    " WHERE v.post_id IN (SELECT post_id FROM course_votes) GROUP BY v.post_id"
    ") c WHERE p.id = c.post_id AND p.vote_total <> c.n"
)


def _insert_votes(cursor, insert: str) -> int:
    """Insert the votes and bring their posts' vote_total up to date; return the votes added."""
    # The counter trigger would update a post once per vote: three million updates (and dead
    # post rows) for three million votes. It is off for this one statement and the guard for
    # the recount; both changes are part of this transaction, so no other session ever sees
    # them, and a failure rolls them back with everything else. ALTER TABLE refuses a table
    # with foreign key checks still queued for commit: they run now, and the insert's own at
    # the end of the insert.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(_sql("ALTER TABLE {votes} DISABLE TRIGGER vote_count"))
    cursor.execute(_sql(insert))
    added = cursor.rowcount
    cursor.execute(_sql("ALTER TABLE {votes} ENABLE TRIGGER vote_count"))
    if added:
        cursor.execute(_sql("ALTER TABLE {posts} DISABLE TRIGGER post_vote_total_guard"))
        cursor.execute(_sql(RECOUNT))
        cursor.execute(_sql("ALTER TABLE {posts} ENABLE TRIGGER post_vote_total_guard"))
    return added


def _move_sequences(cursor, top_ids: tuple[int | None, int | None]) -> None:
    """Move the id sequences past every source id, so that new rows never collide."""
    for model, top in zip((User, Post), top_ids, strict=True):
        cursor.execute(
            "SELECT setval(seq, %(top)s) FROM (SELECT pg_get_serial_sequence(%(table)s, 'id')::regclass AS seq) s"
            " WHERE %(top)s > COALESCE(pg_sequence_last_value(seq), 0)",
            {"top": top, "table": connection.ops.quote_name(model._meta.db_table)},
        )
