"""The database an export writes: one in the original course API's schema, empty or made so.

The original's tables are what its last alembic migration (``c47ecbf163d4``, the revision the
import reads) leaves: the columns and types of its SQLAlchemy models, the constraint names
PostgreSQL gives them there. A new target gets them without constraints first; the constraints
are added after the rows are copied, which checks each of them in one pass instead of row by row.
"""

import psycopg
from psycopg import sql

from course_import.source import SOURCE_COLUMNS, describe_source, missing_columns, one_line

# The alembic head the original's code runs at (and the import reads).
ORIGINAL_REVISION = "c47ecbf163d4"

# The original's tables as its last migration leaves them (keys added after the copy).
CREATE_ORIGINAL_TABLES = """
CREATE TABLE users (
    id           serial NOT NULL,
    email        varchar NOT NULL,
    password     varchar NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    phone_number varchar
);
CREATE TABLE posts (
    id         serial NOT NULL,
    title      varchar NOT NULL,
    content    varchar NOT NULL,
    owner_id   integer NOT NULL,
    published  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE votes (
    user_id integer NOT NULL,
    post_id integer NOT NULL
);
"""
CREATE_TABLES = (
    CREATE_ORIGINAL_TABLES
    + """
CREATE TABLE alembic_version (
    version_num varchar(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
"""
)
ADD_CONSTRAINTS = """
ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
ALTER TABLE posts ADD CONSTRAINT posts_pkey PRIMARY KEY (id);
ALTER TABLE posts ADD CONSTRAINT post_users_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE votes ADD CONSTRAINT votes_pkey PRIMARY KEY (user_id, post_id);
ALTER TABLE votes ADD CONSTRAINT votes_post_id_fkey FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE;
ALTER TABLE votes ADD CONSTRAINT votes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
"""
# The original's next insert takes the id after the highest one written (setval is strict: an
# empty table leaves its sequence where it is).
MOVE_SEQUENCES = """
SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users;
SELECT setval(pg_get_serial_sequence('posts', 'id'), max(id)) FROM posts;
"""


class ExportRefused(Exception):
    """The export cannot go ahead; the message says why, and the target was not changed."""


def connect_target(conninfo: str) -> psycopg.Connection:
    """Open the target (a libpq URL or key=value string); its writes are one transaction.

    Raises ``ExportRefused`` when the URL is not valid or the server cannot be reached (after
    10 s); the message names the database but never its password.
    """
    try:
        return psycopg.connect(conninfo, connect_timeout=10)
    except psycopg.ProgrammingError as exc:
        raise ExportRefused(f"The target database URL is not valid: {one_line(exc)}") from exc
    except psycopg.OperationalError as exc:
        raise ExportRefused(f"Cannot connect to {describe_source(conninfo)}: {one_line(exc)}") from exc


def prepare_target(target: psycopg.Connection, *, replace: bool) -> tuple[bool, str]:
    """Make the target ready for the rows, in its open transaction: create the original's tables
    in an empty database, or (``replace``) empty the original's tables that hold rows. Returns
    whether the tables were created here, and what was done, for the report.

    Raises ``ExportRefused`` for a target with tables that are not the original's, one that
    lacks some of the original's tables or columns, or one whose tables hold rows (unless
    ``replace``).
    """
    tables = {
        name
        for (name,) in target.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    }
    if not tables:
        target.execute(CREATE_TABLES)
        target.execute("INSERT INTO alembic_version VALUES (%s)", [ORIGINAL_REVISION])
        return True, f"created the original's tables at alembic revision {ORIGINAL_REVISION}"
    others = sorted(tables - set(SOURCE_COLUMNS))
    if others:
        raise ExportRefused(
            f"The target holds tables that are not the original course API's ({', '.join(others)})."
            " Export into an empty database, or one holding only the original's tables."
        )
    missing = missing_columns(target)
    if missing:
        raise ExportRefused(
            f"The target is not the original course API's database (missing {', '.join(missing)})."
            " Export into an empty database, or one the original's alembic migrations built."
        )
    # No one writes there until the export commits (a running original would wait).
    target.execute("LOCK TABLE users, posts, votes IN ACCESS EXCLUSIVE MODE")
    [counts] = target.execute(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), (SELECT count(*) FROM votes)"
    ).fetchall()
    if not any(counts):
        return False, "wrote into the original's empty tables"
    held = f"{counts[0]:,} users, {counts[1]:,} posts and {counts[2]:,} votes"
    if not replace:
        raise ExportRefused(
            f"The target already holds {held}. Export into an empty database, or pass --replace"
            " to delete them and write this backend's rows instead."
        )
    target.execute("TRUNCATE users, posts, votes RESTART IDENTITY")
    return False, f"replaced the {held} it held"


def finish_target(target: psycopg.Connection, *, created: bool) -> None:
    """After the rows: the constraints (on tables this export created), the id sequences, and
    fresh statistics for the original's first queries."""
    if created:
        target.execute(ADD_CONSTRAINTS)
    target.execute(MOVE_SEQUENCES)
    target.execute(sql.SQL("ANALYZE users, posts, votes"))
