"""The yardstick of `make bench`: a bare WSGI app that answers the reads and writes the bench
compares (list, search, sort=top, a cursor page, get-one, create-post, vote, /users/me,
/users/{id}, a post's comments, the home feed) and nothing else.

It does only what those answers must do, with no framework: verify the bearer token with
PyJWT (same key, algorithm, leeway and claims as config/authentication.py and SimpleJWT: the
signature, `exp` and `iat`, `token_type` "access", a `jti`, a numeric `user_id`), read the
user's row (active, and its `security_stamp` equal to the token's: revocation as immediate as
the project's), run the page query the project runs (same tables, WHERE, ORDER BY and LIMIT,
hence the same index and plan) with psycopg 3 as a prepared statement, and write the same JSON
body, byte for byte (DRF's compact encoding, datetimes as ``...+00:00``). The project sends
more headers (ETag, Link, Cache-Control, Vary, X-Request-ID, the security headers): those are
part of what the ratio measures.

Served by gunicorn with the project's gunicorn.conf.py (``gunicorn bench.bare_app:application
-c gunicorn.conf.py``). It reads SECRET_KEY, ALGORITHM and JWT_LEEWAY_SECONDS as the settings
do, and the database from BARE_DATABASE_URL (a libpq URL or conninfo). Routes:
``GET /`` (start-up probe), ``GET /posts/?limit=N&search=S&sort=top&cursor=C`` (newest or most
voted first; a search matches a part of the title ignoring case, as the project's ``icontains``;
a ``rel="next"`` cursor of the project's, its signature checked with the same key: the rows after
its position), ``GET /posts/{id}``, ``GET /users/me``, ``GET /users/{id}`` (public),
``GET /posts/{id}/comments?limit=N`` (the post's visibility checked, then its top-level comments,
oldest first, tombstones as the project writes them), ``GET /feed?limit=N&cursor=C`` (the
caller's home feed, newest first, from the start or after a ``rel="next"`` cursor of the
project's: one statement, the project's, whose ids come from the database function
``follows_feed_ids`` that follows.feed installs), ``POST /posts/`` (a JSON body; one INSERT ... RETURNING joined to the owner)
and ``POST /vote/`` (a visibility check, then the INSERT or DELETE; the database's unique
constraint answers a second vote, its triggers keep the count, as for the project); everything
else is a 404. Each gunicorn thread keeps one connection (autocommit: each statement is its own
transaction, as a minimal app's would be).
"""

import base64
import hashlib
import hmac
import json
import os
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import jwt
import psycopg

SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALGORITHM = os.environ.get("ALGORITHM") or "HS256"
LEEWAY_SECONDS = int(os.environ.get("JWT_LEEWAY_SECONDS") or 30)
DATABASE_URL = os.environ.get("BARE_DATABASE_URL", "")
PAGE_MAX = 100
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%:z"  # settings.REST_FRAMEWORK["DATETIME_FORMAT"]

_COLUMNS = (
    "p.id, p.title, p.content, p.published, p.created_at, p.owner_id, "
    # The count: the post's vote_total and its pending deltas (votes/triggers.py).
    "p.vote_total + coalesce((SELECT sum(d.delta) FROM votes_votedelta d WHERE d.post_id = p.id), 0), "
    "u.id, u.email, u.date_joined"
)
# posts.queries.visible_posts: published posts and the user's own, never a hidden one.
_VISIBLE = (
    f"SELECT {_COLUMNS} FROM posts_post p JOIN accounts_user u ON u.id = p.owner_id "  # noqa: S608
    "WHERE (p.published OR p.owner_id = %s) AND NOT p.hidden"
)
# api.paging.keyset_page reads one row more than the page, to know whether more follow.
LIST_SQL = f"{_VISIBLE} ORDER BY p.created_at DESC, p.id DESC LIMIT %s"
# The list's orders (posts.queries.ORDERINGS), their columns, and the project's search expression
# (``icontains`` on PostgreSQL, which its trigram index serves).
ORDERS = {"new": ("p.created_at", "p.id"), "top": ("p.vote_total", "p.created_at", "p.id")}
FEED_ORDER = ("created_at", "id")  # follows.feed.ORDERING, named "feed" in its cursors
SEARCH_WHERE = " AND UPPER(p.title::text) LIKE UPPER(%s)"
CURSOR_SALT = "api.paging.cursor"  # api.paging.SALT: django.core.signing's salt of a cursor
# PostViewSet.retrieve: ``.filter(pk=...).first()`` on the model's ordering.
GET_SQL = f"{_VISIBLE} AND p.id = %s ORDER BY p.created_at DESC, p.id DESC LIMIT 1"
USER_SQL = "SELECT id, security_stamp FROM accounts_user WHERE id = %s AND is_active"
# GET /users/me reads the caller's row with what it shows; GET /users/{id} any user's.
ME_SQL = "SELECT id, security_stamp, email, date_joined FROM accounts_user WHERE id = %s AND is_active"
USER_BY_ID_SQL = "SELECT id, email, date_joined FROM accounts_user WHERE id = %s"
# A post's top-level comments, oldest first, each with its owner if any (comments.queries.thread).
COMMENTS_SQL = (
    "SELECT c.id, c.post_id, c.parent_id, c.content, c.created_at, c.edited_at, c.deleted, c.hidden,"
    " c.reply_count, c.owner_id, u.email, u.date_joined FROM comments_comment c"
    " LEFT JOIN accounts_user u ON u.id = c.owner_id WHERE c.post_id = %s AND c.parent_id IS NULL"
    " ORDER BY c.created_at, c.id LIMIT %s"
)
# GET /feed: follows.feed.feed_page's one statement (in the model's ordering, as Django writes
# it). The ids of the page come from the database function follows_feed_ids (installed by
# follows' migrations), which picks the plan by the reader's number of followees: below
# FEW_FOLLOWEES a merge per author, below MANY_FOLLOWEES a walk of the newest-first index with a
# hash, then with a binary search (follows.feed's constants; bench/feed_scenarios.py checks them).
FEW_FOLLOWEES, MANY_FOLLOWEES = 300, 2_000
FEED_SQL = (
    f"SELECT {_COLUMNS} FROM posts_post p JOIN accounts_user u ON u.id = p.owner_id"  # noqa: S608
    " WHERE p.id IN (SELECT f.id FROM follows_feed_ids(%s, %s::timestamptz, %s, false, %s, %s, %s) AS f(id))"
    " AND p.published AND NOT p.hidden AND u.is_active ORDER BY p.created_at DESC, p.id DESC"
)
FEED_START = ("infinity", 2**63 - 1)  # follows.feed._START[NEXT]: before every post
# POST /posts/: the new row and its owner, in one statement.
CREATE_SQL = (
    "WITH p AS (INSERT INTO posts_post (title, content, published, owner_id) VALUES (%s, %s, %s, %s)"
    " RETURNING id, title, content, published, created_at, owner_id)"
    " SELECT p.id, p.title, p.content, p.published, p.created_at, p.owner_id, 0, u.id, u.email, u.date_joined"
    " FROM p JOIN accounts_user u ON u.id = p.owner_id"
)
# POST /vote/: the post must be one the voter can see (the project's 404), then one write.
VISIBLE_SQL = "SELECT 1 FROM posts_post WHERE id = %s AND (published OR owner_id = %s) AND NOT hidden"
VOTE_SQL = "INSERT INTO votes_vote (user_id, post_id) VALUES (%s, %s)"
UNVOTE_SQL = "DELETE FROM votes_vote WHERE user_id = %s AND post_id = %s"

JSON_HEADERS = [("Content-Type", "application/json")]
NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Could not validate credentials"
BIGINT_MAX = 2**63 - 1
StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_local = threading.local()


class HttpError(Exception):
    """An answer other than 200: its status line, its ``detail`` and any extra headers."""

    def __init__(self, status: str, detail: Any, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or []


def unauthorized(detail: str) -> HttpError:
    return HttpError("401 Unauthorized", detail, [("WWW-Authenticate", "Bearer")])


def connection() -> psycopg.Connection:
    """This thread's connection (opened on first use, reopened after a failure), in UTC."""
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(DATABASE_URL, autocommit=True, options="-c TimeZone=UTC")
        _local.conn = conn
    return conn


def authenticate(environ: dict, user_sql: str = USER_SQL) -> Any:
    """The id of the user the bearer token names (with `user_sql`: that query's row, its id and
    security stamp first). Raises HttpError 401 as the project does."""
    scheme, _, raw = environ.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise unauthorized(NOT_AUTHENTICATED)
    try:
        claims = jwt.decode(raw, SECRET_KEY, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS)
    except jwt.InvalidTokenError as exc:
        raise unauthorized(INVALID_CREDENTIALS) from exc
    user_id = str(claims.get("user_id", ""))
    if (
        claims.get("token_type") != "access"
        or "jti" not in claims
        or not (user_id.isascii() and user_id.isdigit() and int(user_id) <= BIGINT_MAX)
    ):
        raise unauthorized(INVALID_CREDENTIALS)
    row = connection().execute(user_sql, (int(user_id),), prepare=True).fetchone()
    # A token issued before the user's sessions were ended carries an old stamp.
    if row is None or str(claims.get("security_stamp", "")) != row[1]:
        raise unauthorized(INVALID_CREDENTIALS)
    return row[0] if user_sql is USER_SQL else row


def post_out(row: tuple) -> dict:
    """The contract's ``PostOut`` for one row of the page query."""
    return {
        "Post": {
            "title": row[1],
            "content": row[2],
            "published": row[3],
            "id": row[0],
            "created_at": row[4].strftime(DATETIME_FORMAT),
            "owner_id": row[5],
            "owner": {"id": row[7], "email": row[8], "created_at": row[9].strftime(DATETIME_FORMAT)},
        },
        "votes": row[6],
    }


def user_out(user_id: int, email: str, date_joined: datetime) -> dict:
    """The contract's ``User``."""
    return {"id": user_id, "email": email, "created_at": date_joined.strftime(DATETIME_FORMAT)}


def parse_limit(query: dict[str, list[str]]) -> int:
    """`limit` (default 10, at most 100) as PostListQuerySerializer reads it."""
    raw = query.get("limit", ["10"])[-1]
    if not raw.isascii() or not raw.isdigit():
        raise HttpError("422 Unprocessable Entity", "limit must be an integer")
    return min(int(raw), PAGE_MAX)


def read_cursor(token: str, sort: str) -> list[Any]:
    """The position of a ``rel="next"`` cursor of the ordering `sort` (a key of ORDERS, or
    "feed"): django.core.signing's format (base64 JSON, a timestamp, an HMAC-SHA256 of them under
    a key derived from SECRET_KEY and the salt). HttpError 422 for any other."""
    value, _, signature = token.rpartition(":")
    key = hashlib.sha256(f"{CURSOR_SALT}signer{SECRET_KEY}".encode()).digest()
    expected = base64.urlsafe_b64encode(hmac.new(key, value.encode(), hashlib.sha256).digest()).rstrip(b"=")
    if not hmac.compare_digest(signature.encode(), expected):
        raise HttpError("422 Unprocessable Entity", "Invalid cursor")
    data = value.rpartition(":")[0]
    payload = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    columns = FEED_ORDER if sort == "feed" else ORDERS[sort]
    if payload.get("o") != sort or payload.get("d") != "next" or len(payload["p"]) != len(columns):
        raise HttpError("422 Unprocessable Entity", "Invalid cursor")
    position = list(payload["p"])
    position[-2] = datetime.fromisoformat(position[-2])  # created_at, before the id
    return position


def list_posts(user_id: int, query_string: str) -> list[dict]:
    """A page in `sort`'s order (new, top), of the posts matching `search` if given, after the
    position of `cursor` if given (one row more read, as the project reads it)."""
    query = urllib.parse.parse_qs(query_string)
    limit = parse_limit(query)
    sort = query.get("sort", ["new"])[-1]
    if sort not in ORDERS:
        raise HttpError("422 Unprocessable Entity", "sort must be new or top")
    search = query.get("search", [""])[-1]
    sql: str = _VISIBLE
    params: list[Any] = [user_id]
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql += SEARCH_WHERE
        params.append(f"%{escaped}%")
    columns = ORDERS[sort]
    if "cursor" in query:
        position = read_cursor(query["cursor"][-1], sort)
        sql += f" AND ({', '.join(columns)}) < ({', '.join(['%s'] * len(columns))})"
        params += position
    sql += f" ORDER BY {', '.join(f'{column} DESC' for column in columns)} LIMIT %s"
    rows = connection().execute(sql, (*params, limit + 1), prepare=True).fetchall()
    return [post_out(row) for row in rows[:limit]]


def feed(user_id: int, query_string: str) -> list[dict]:
    """A page of the caller's home feed, newest first: from the newest post, or after the
    position of a ``rel="next"`` cursor of the feed (one row more read, as the project reads it).
    The project sorts the rows again in Python (follows.feed.feed_page, for both directions);
    here they are used in the statement's order."""
    query = urllib.parse.parse_qs(query_string)
    limit = parse_limit(query)
    at, after = read_cursor(query["cursor"][-1], "feed") if "cursor" in query else FEED_START
    params = (user_id, at, after, limit + 1, FEW_FOLLOWEES, MANY_FOLLOWEES)
    rows = connection().execute(FEED_SQL, params, prepare=True).fetchall()
    return [post_out(row) for row in rows[:limit]]


def get_user(raw_id: str) -> dict:
    """A user by id (any user), or 404 as the project words it."""
    user_id = parse_id(raw_id)
    row = connection().execute(USER_BY_ID_SQL, (user_id,), prepare=True).fetchone()
    if row is None:
        raise HttpError("404 Not Found", f"User with id: {user_id} does not exist")
    return user_out(*row)


def list_comments(user_id: int, raw_id: str, query_string: str) -> list[dict]:
    """A post's top-level comments, oldest first, `limit` of them; 404 for a post the caller
    cannot see. A deleted or hidden comment is a tombstone (no content, no owner)."""
    post_id = parse_id(raw_id)
    limit = parse_limit(urllib.parse.parse_qs(query_string))
    db = connection()
    if db.execute(VISIBLE_SQL, (post_id, user_id), prepare=True).fetchone() is None:
        raise HttpError("404 Not Found", f"post with id: {post_id} was not found")
    rows = db.execute(COMMENTS_SQL, (post_id, limit + 1), prepare=True).fetchall()
    comments = []
    for id_, post, parent, content, created, edited, deleted, hidden, replies, owner, email, joined in rows[
        :limit
    ]:
        tombstone = deleted or hidden
        comments.append(
            {
                "id": id_,
                "post_id": post,
                "parent_id": parent,
                "content": "" if tombstone else content,
                "created_at": created.strftime(DATETIME_FORMAT),
                "edited_at": edited.strftime(DATETIME_FORMAT) if edited else None,
                "deleted": tombstone,
                "reply_count": replies,
                "owner_id": None if tombstone else owner,
                "owner": None if tombstone or owner is None else user_out(owner, email, joined),
            }
        )
    return comments


def parse_id(raw_id: str) -> int:
    if not raw_id.isascii() or not raw_id.isdigit() or int(raw_id) > BIGINT_MAX:
        raise HttpError("422 Unprocessable Entity", "id must be an integer")
    return int(raw_id)


def get_post(user_id: int, raw_id: str) -> dict:
    post_id = parse_id(raw_id)
    row = connection().execute(GET_SQL, (user_id, post_id), prepare=True).fetchone()
    if row is None:
        raise HttpError("404 Not Found", f"post with id: {int(raw_id)} was not found")
    return post_out(row)


def read_json(environ: dict) -> dict:
    """The request's JSON object, or HttpError 422."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length))
    except ValueError as exc:
        raise HttpError("422 Unprocessable Entity", "the body is not JSON") from exc
    if not isinstance(body, dict):
        raise HttpError("422 Unprocessable Entity", "the body is not a JSON object")
    return body


def create_post(user_id: int, body: dict) -> dict:
    """The new post, as the flat ``Post``; 422 unless title and content are strings and
    published (true when omitted) a boolean."""
    title, content, published = body.get("title"), body.get("content"), body.get("published", True)
    if not isinstance(title, str) or not isinstance(content, str) or not isinstance(published, bool):
        raise HttpError("422 Unprocessable Entity", "title, content: strings; published: a boolean")
    rows = connection().execute(CREATE_SQL, (title, content, published, user_id), prepare=True).fetchall()
    return post_out(rows[0])["Post"]


def vote(user_id: int, body: dict) -> dict:
    """Add (dir 1) or remove (dir 0) the user's vote: 404 for a post the user cannot see or a
    missing vote, 409 for a second vote."""
    post_id, direction = body.get("post_id"), body.get("dir")
    if type(post_id) is not int or not 0 < post_id <= BIGINT_MAX or direction not in (0, 1):
        raise HttpError("422 Unprocessable Entity", "post_id: an integer; dir: 0 or 1")
    db = connection()
    if db.execute(VISIBLE_SQL, (post_id, user_id), prepare=True).fetchone() is None:
        raise HttpError("404 Not Found", f"Post with id: {post_id} does not exist")
    if direction == 0:
        if db.execute(UNVOTE_SQL, (user_id, post_id), prepare=True).rowcount == 0:
            raise HttpError("404 Not Found", "Vote does not exist")
        return {"message": "successfully deleted vote"}
    try:
        db.execute(VOTE_SQL, (user_id, post_id), prepare=True)
    except psycopg.errors.UniqueViolation as exc:
        raise HttpError("409 Conflict", f"user {user_id} has already voted on post {post_id}") from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise HttpError("404 Not Found", f"Post with id: {post_id} does not exist") from exc
    return {"message": "successfully added vote"}


def render(data: Any) -> bytes:
    """JSON as DRF's JSONRenderer writes it (compact, UTF-8, U+2028/U+2029 escaped)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def application(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI entry point."""
    path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
    status = "200 OK"
    try:
        if method == "POST" and path in ("/posts", "/posts/"):
            data: Any = create_post(authenticate(environ), read_json(environ))
            status = "201 Created"
        elif method == "POST" and path in ("/vote", "/vote/"):
            data = vote(authenticate(environ), read_json(environ))
            status = "201 Created"
        elif method != "GET":
            raise HttpError("405 Method Not Allowed", "Method Not Allowed")
        elif path == "/":
            data = {"message": "Hello World"}
        elif path in ("/posts", "/posts/"):
            data = list_posts(authenticate(environ), environ.get("QUERY_STRING", ""))
        elif path.startswith("/posts/") and path.count("/") == 2:
            data = get_post(authenticate(environ), path[len("/posts/") :])
        elif (
            path.startswith("/posts/")
            and path.rstrip("/").endswith("/comments")
            and path.count("/") in (3, 4)
        ):
            raw_id = path.split("/")[2]
            data = list_comments(authenticate(environ), raw_id, environ.get("QUERY_STRING", ""))
        elif path.rstrip("/") == "/feed":
            data = feed(authenticate(environ), environ.get("QUERY_STRING", ""))
        elif path.rstrip("/") == "/users/me":
            row = authenticate(environ, ME_SQL)
            data = user_out(row[0], row[2], row[3])
        elif path.startswith("/users/") and path.rstrip("/").count("/") == 2:
            data = get_user(path.rstrip("/")[len("/users/") :])
        else:
            raise HttpError("404 Not Found", "Not Found")
        headers = JSON_HEADERS
    except HttpError as exc:
        data, status, headers = {"detail": exc.detail}, exc.status, [*JSON_HEADERS, *exc.headers]
    except psycopg.Error:
        _local.conn = None  # a new connection on the next request
        raise
    body = render(data)
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _check_format() -> None:
    """%:z needs Python 3.12; fail at import rather than on the first request."""
    datetime(2020, 1, 1).astimezone().strftime(DATETIME_FORMAT)


_check_format()
