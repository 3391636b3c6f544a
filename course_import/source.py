"""Reading the source: the database of a running deployment of the original course API.

The source is read in one REPEATABLE READ, READ ONLY transaction, so its three tables are one
consistent snapshot even while the original keeps serving, and the import never writes there.
"""

import time
from collections.abc import Callable, Iterable
from typing import Protocol

import psycopg
from django.db.backends.utils import CursorWrapper
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.conninfo import conninfo_to_dict

# What the original's last migration leaves, and what this import reads of it.
SOURCE_COLUMNS = {
    "users": ("id", "email", "password", "created_at"),
    "posts": ("id", "title", "content", "owner_id", "published", "created_at"),
    "votes": ("user_id", "post_id"),
    "alembic_version": ("version_num",),
}


class Writer(Protocol):
    """The writing end of a COPY (psycopg's ``Copy``)."""

    def write(self, buffer: Buffer) -> None: ...


# Called with one line of progress ("users: 1,000 of 2,000 rows read (50%)").
Progress = Callable[[str], None]


class ImportRefused(Exception):
    """The import cannot go ahead; the message says why and nothing has been written."""


def one_line(exc: BaseException) -> str:
    """An error's message on one line: psycopg's end with a newline, and the server's add
    DETAIL and CONTEXT lines."""
    return " ".join(str(exc).split())


def describe_source(conninfo: str) -> str:
    """The source's host, port and database name, never its password, for messages."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "the source database"
    host = params.get("host") or "localhost"
    return f"{params.get('dbname') or params.get('user') or '?'} on {host}:{params.get('port') or 5432}"


def connect_source(conninfo: str) -> psycopg.Connection:
    """Open the source (a libpq URL or key=value string) for one read-only snapshot.

    Raises ``ImportRefused`` when the URL is not valid or the server cannot be reached (after
    10 s); the message names the database but never its password.
    """
    try:
        source = psycopg.connect(conninfo, connect_timeout=10)
    except psycopg.ProgrammingError as exc:
        raise ImportRefused(f"The source database URL is not valid: {one_line(exc)}") from exc
    except psycopg.OperationalError as exc:
        raise ImportRefused(f"Cannot connect to {describe_source(conninfo)}: {one_line(exc)}") from exc
    # One snapshot of all three tables, and a guarantee that the import never writes there.
    source.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    source.read_only = True
    return source


def check_source_schema(source: psycopg.Connection) -> str:
    """Return the source's alembic revision ("none" when the table is empty).

    Raises ``ImportRefused`` naming every table and column of ``SOURCE_COLUMNS`` it lacks: a
    source that is not the original's schema.
    """
    missing = missing_columns(source)
    if missing:
        raise ImportRefused(
            "The source is not the original course API's database (missing "
            + ", ".join(missing)
            + "). Point the command at the database that the original's alembic migrations built."
        )
    revision = source.execute("SELECT version_num FROM alembic_version LIMIT 1").fetchone()
    return revision[0] if revision else "none"


def missing_columns(db: psycopg.Connection) -> list[str]:
    """What the database lacks of ``SOURCE_COLUMNS`` ("table votes", "column posts.title"): an
    empty list for a database with the original's schema."""
    rows = db.execute(
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
    return missing


def copy_table(
    source: psycopg.Connection,
    cursor: CursorWrapper,
    name: str,
    columns: tuple[str, ...],
    total: int,
    progress: Progress,
) -> int:
    """Stream the source's table ``name`` into the staging table ``course_<name>`` through
    ``cursor`` (this database's); return the number of rows. Reports progress every 2 s."""
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    copy_out = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(column_list, sql.Identifier(name))
    with (
        source.cursor().copy(copy_out) as reader,
        cursor.copy(f"COPY course_{name} FROM STDIN") as writer,
    ):
        return pipe(reader, writer, name, total, progress, verb="read")


def pipe(
    reader: Iterable[Buffer], writer: Writer, name: str, total: int, progress: Progress, *, verb: str
) -> int:
    """Write every chunk of a ``COPY ... TO STDOUT`` (text format) into a ``COPY ... FROM STDIN``;
    return the number of rows. Reports "<name>: N of TOTAL rows <verb>" every 2 s and at the end."""
    rows, last_report = 0, time.monotonic()
    for chunk in reader:
        writer.write(chunk)
        # Text format ends every row with a newline and escapes the ones inside values.
        rows += bytes(chunk).count(b"\n")
        if time.monotonic() - last_report >= 2:
            progress(_copied(name, rows, total, verb))
            last_report = time.monotonic()
    progress(_copied(name, rows, total, verb))
    return rows


def _copied(name: str, rows: int, total: int, verb: str) -> str:
    return f"{name}: {rows:,} of {total:,} rows {verb}" + (f" ({100 * rows // total}%)" if total else "")
