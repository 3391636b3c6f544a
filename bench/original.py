"""The original course app (FastAPI under uvicorn) served beside the project by `make bench`.

    make bench ARGS="--original=DIR [--sizes=1k,1M] [--scenarios=list,get one]"

DIR is a checkout of the course's final code kept outside this repository: DIR/app is its
package (served as ``app.main:app``) and DIR/.venv a virtualenv holding its dependencies and
uvicorn (bench/RESULTS.md says how the one measured there was set up). The bench runs
``DIR/.venv/bin/python -m uvicorn app.main:app --workers 4`` from DIR on a free port of
127.0.0.1, with the course's settings in its environment (DATABASE_HOSTNAME, DATABASE_PORT,
DATABASE_PASSWORD, DATABASE_NAME, DATABASE_USERNAME, SECRET_KEY, ALGORITHM,
ACCESS_TOKEN_EXPIRE_MINUTES) pointing at the bench's database. A database on a Unix socket
(the embedded PostgreSQL) is reached through libpq's own variables: DATABASE_HOSTNAME is empty,
so SQLAlchemy hands psycopg2 no host, and libpq takes the socket folder from PGHOST; the
password goes the same way (PGPASSWORD), as the course's code puts it in a URL unquoted.

The course's code reads its own tables, ``users``, ``posts`` and ``votes`` (the schema its last
migration leaves: course_import/tests/fixtures/original_schema.sql). fill() creates them in the
bench's database and copies the project's seeded rows into them: same ids, emails, titles,
contents, owners, published flags, creation times and vote pairs; every user's password is one
bcrypt hash of the bench's password, as passlib writes it. Its list and get-one count a post's
votes by joining and grouping the votes table, which has no index on post_id: at 1M posts each
request reads all 3M votes, and at 10M it would take minutes, so it is served at SIZES only.
"""

import hashlib
import json
import os
import secrets
import time
from pathlib import Path

import bcrypt
import dj_database_url
import psycopg
from psycopg import sql

from bench.datasets import PASSWORD
from bench.servers import Server
from course_import.target import ADD_CONSTRAINTS, CREATE_ORIGINAL_TABLES

# The sizes at which the original is measured (bench/datasets.py's names).
SIZES = ("1k", "1M")
WORKERS = 4
# libpq's application_name for the original's connections: how drain() finds its queries.
APPLICATION_NAME = "bench-original"
# Written on the copied posts table; tables of these names without it are never touched.
MARK = "bench copy of the project's rows"
TABLES = ("votes", "posts", "users")  # in the order they can be dropped

# The original's tables, as the export makes them (constraints added after the copy, which
# checks them in one pass each instead of row by row). phone_number is never read or written by
# its API.
CREATE = CREATE_ORIGINAL_TABLES
COPY = (
    "INSERT INTO users (id, email, password, created_at) SELECT id, email, %(hash)s, date_joined FROM accounts_user",
    "INSERT INTO posts (id, title, content, owner_id, published, created_at) "
    "SELECT id, title, content, owner_id, published, created_at FROM posts_post",
    "INSERT INTO votes (user_id, post_id) SELECT user_id, post_id FROM votes_vote",
)
CONSTRAIN = (
    ADD_CONSTRAINTS
    + """
SELECT setval(pg_get_serial_sequence('users', 'id'), greatest(max(id), 1)) FROM users;
SELECT setval(pg_get_serial_sequence('posts', 'id'), greatest(max(id), 1)) FROM posts;
"""
)
# What the copy depends on: when any of it differs from what the copy was made of, fill() makes
# it again (1k and 1M are seeded anew on every run, with new creation times).
FINGERPRINT = """
SELECT (SELECT count(*) FROM accounts_user), (SELECT max(date_joined) FROM accounts_user),
       (SELECT count(*) FROM posts_post), (SELECT max(id) FROM posts_post),
       (SELECT max(created_at) FROM posts_post), (SELECT count(*) FROM votes_vote),
       (SELECT max(created_at) FROM votes_vote)
"""


def fill(url: str) -> str:
    """Make the original's tables in the database of `url` (a postgres:// URL) hold a copy of
    the project's rows, copying them only if they changed since the last copy. Returns a line
    saying what was done and in how many seconds.

    Raises SystemExit when tables named users, posts or votes exist there that this module did
    not make (the database of a real deployment of the course, say): they are left alone.
    """
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute(FINGERPRINT).fetchone()
        password = hashlib.sha256(PASSWORD.encode()).hexdigest()[:12]
        fingerprint = f"{MARK}: {json.dumps([str(x) for x in row or ()])} password {password}"
        comment = _posts_comment(db)
        if comment == fingerprint:
            return "original's tables already hold a copy of these rows"
        with db.transaction():
            drop(db)
            db.execute(CREATE)
            hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()
            for statement in COPY:
                db.execute(statement, {"hash": hashed} if "%(hash)s" in statement else None)
            db.execute(CONSTRAIN)
            db.execute(sql.SQL("COMMENT ON TABLE posts IS {}").format(sql.Literal(fingerprint)))
        db.execute("ANALYZE users, posts, votes")
        (posts,) = db.execute("SELECT count(*) FROM posts").fetchone() or (0,)
    return f"original's tables filled with {posts} posts in {time.monotonic() - started:.0f} s"


def drop(db: psycopg.Connection) -> None:
    """Drop the original's tables from `db`'s database if this module made them (none there: no
    change). Raises SystemExit when tables of those names exist that it did not make."""
    comment = _posts_comment(db)
    existing = [
        name
        for name in TABLES
        if db.execute("SELECT to_regclass(%s)", [f"public.{name}"]).fetchone() != (None,)
    ]
    if existing and (comment is None or not comment.startswith(MARK)):
        raise SystemExit(
            f"this database already has tables {', '.join(existing)} that the bench did not make: "
            "run the bench on another database (DATABASE_URL) to serve the original beside it"
        )
    if existing:
        db.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")


def drop_tables(url: str) -> None:
    """Drop the copies fill() made in the database of `url`, at the end of a run (they are made
    anew from the seeded rows by the next one). Errors are printed, not raised: this runs while
    the bench stops, possibly after the database went away."""
    try:
        with psycopg.connect(url, autocommit=True) as db:
            drop(db)
    except (psycopg.Error, SystemExit) as exc:
        print(f"the original's tables were not dropped: {exc}", flush=True)


def _posts_comment(db: psycopg.Connection) -> str | None:
    row = db.execute("SELECT obj_description(to_regclass('public.posts'), 'pg_class')").fetchone()
    return row[0] if row else None


class OriginalServer(Server):
    """The course's app under uvicorn (`workers` worker processes, WORKERS by default) from the checkout in
    `directory` (its package ``app`` and its virtualenv ``.venv``), serving the database of
    `url` (a postgres:// URL, a Unix socket folder as host allowed). Started, sampled and
    stopped like the gunicorns: its process group gets SIGTERM, then SIGKILL after 20 s."""

    log_prefix = "bench-uvicorn-"

    def __init__(self, directory: Path, url: str, workers: int = WORKERS) -> None:
        self.python = interpreter(directory)
        self.workers = workers
        super().__init__(root=directory, env=course_settings(url), app="app.main:app")

    def command(self, port: int) -> tuple[list[str], dict[str, str]]:
        """uvicorn's command line for 127.0.0.1:`port`, and the environment: the bench's own
        (PATH and the like) with the course's settings over it."""
        command = [str(self.python), "-m", "uvicorn", self.app, "--host", "127.0.0.1", "--port", str(port)]
        return [*command, "--workers", str(self.workers), "--no-access-log"], {**os.environ, **self.extra_env}

    def describe(self) -> str:
        """What start() prints before the address."""
        return f"uvicorn ({self.app} from {self.root}, {self.workers} workers)"


def interpreter(directory: Path) -> Path:
    """The Python of the checkout in `directory` (DIR/.venv/bin/python). Raises SystemExit
    unless the directory holds DIR/app/main.py and that Python."""
    python = directory / ".venv" / "bin" / "python"
    if not (directory / "app" / "main.py").is_file() or not python.is_file():
        raise SystemExit(f"--original={directory}: expected {directory}/app/main.py and {python}")
    return python


def course_settings(url: str) -> dict[str, str]:
    """The course app's environment for the database of `url`: its eight settings, and libpq's
    PGHOST (a socket folder), PGPASSWORD, PGSSLMODE and PGAPPNAME where they apply."""
    db = dj_database_url.parse(url)
    host = str(db.get("HOST") or "")
    socket_folder = host.startswith("/")
    env = {
        "DATABASE_HOSTNAME": "" if socket_folder else host or "localhost",
        "DATABASE_PORT": str(db.get("PORT") or 5432),
        "DATABASE_USERNAME": str(db.get("USER") or ""),
        "DATABASE_PASSWORD": "",
        "DATABASE_NAME": str(db.get("NAME") or ""),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALGORITHM": "HS256",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "60",
        "PGAPPNAME": APPLICATION_NAME,
    }
    if socket_folder:
        env["PGHOST"] = host
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    sslmode = db.get("OPTIONS", {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def check_answer(server: Server, scenario: str, path: str, token: str) -> None:
    """Stop unless the original answers `path` 200 with what `scenario` expects: a JSON list of
    10 items for "list", a JSON object for "get one". Its answers are not compared with the
    project's byte for byte: its JSON spells the same data differently."""
    status, body = server.get(path, token)
    try:
        answer = json.loads(body) if status == 200 else None
    except ValueError:
        answer = None
    expected = (
        (isinstance(answer, list) and len(answer) == 10) if scenario == "list" else isinstance(answer, dict)
    )
    if not expected:
        raise SystemExit(
            f"the original's answer to {path} is not what {scenario} expects: {status} {body[:300]!r}"
        )


def drain(url: str, timeout: float = 120.0) -> float:
    """Wait until the original has had no query running for one second (the requests wrk gave
    up on are still answered after its round; they would load the next server's round).
    Returns the seconds waited; gives up after `timeout` seconds."""
    started = time.monotonic()
    quiet_since = started
    with psycopg.connect(url, autocommit=True) as db:
        while time.monotonic() - started < timeout:
            (running,) = db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state = 'active'",
                [APPLICATION_NAME],
            ).fetchone() or (0,)
            now = time.monotonic()
            if running:
                quiet_since = now
            elif now - quiet_since >= 1.0:
                break
            time.sleep(0.1)
    return time.monotonic() - started
