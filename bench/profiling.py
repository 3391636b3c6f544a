"""Where a list, a get-one, a create and a vote request spend their time, in-process (no HTTP
server).

    .venv/bin/python bench/profiling.py [--requests 2000] [--top 25] [--scenarios list,create]

Runs against the data a `make bench` run left in its database (user1's token; a post from the
middle of the table; for vote, a post user1 has not voted on, voted on and un-voted in turn;
the posts create adds are deleted afterwards). The write limits are lifted, as bench/run.py
lifts them. Each request goes through Django's WSGI handler, as under gunicorn, with a
fresh WSGI environ. Prints, per scenario, the wall time per request without the profiler (best
of 5), then under cProfile the cumulative time of each layer (the functions in LAYERS; nested
layers count inside their parents) and the functions with the most time of their own.
Under gunicorn the same layers can be seen with ``bench/profiled_wsgi.py``.

cProfile adds its own cost to every call it records, so code that makes many small calls looks
far dearer under it than it is. PyJWT checks each character of a token's base64 in a generator
(about 570 recorded events per request): under cProfile the token's decoding shows as over 1 ms,
timed alone (timeit, no profiler) it is about 40 µs, as in the bare app, which uses the same
PyJWT. Check a layer that looks expensive here by timing it alone before cutting it.
"""

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import secrets
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, file suffix, function name): a layer of the request, found in the profile.
LAYERS = [
    ("whole request (WSGIHandler.__call__)", "django/core/handlers/wsgi.py", "__call__"),
    ("  middleware + view (get_response)", "django/core/handlers/base.py", "get_response"),
    ("    DRF dispatch", "rest_framework/views.py", "dispatch"),
    ("      DRF initial (auth, permissions, throttles)", "rest_framework/views.py", "initial"),
    ("        JWT decode + claims (SimpleJWT Token)", "rest_framework_simplejwt/tokens.py", "__init__"),
    ("        user row (active_user)", "api/authentication.py", "active_user"),
    ("      view: list", "api/pagination.py", "list"),
    ("      view: retrieve", "rest_framework/mixins.py", "retrieve"),
    ("      view: create", "rest_framework/mixins.py", "create"),
    ("      view: vote", "votes/views.py", "post"),
    ("        idempotency (idempotent wrapper)", "api/idempotency.py", "wrapper"),
    ("        body parsed (Request.data)", "rest_framework/request.py", "data"),
    ("        serializer validation (is_valid)", "rest_framework/serializers.py", "is_valid"),
    ("        serializer save (ModelSerializer.create)", "rest_framework/serializers.py", "create"),
    ("        webhook outbox (events.record)", "webhooks/events.py", "record"),
    ("        vote statement (cast_vote)", "votes/services.py", "cast_vote"),
    ("        unvote statement (retract_vote)", "votes/services.py", "retract_vote"),
    ("        serializer output (Serializer.data)", "rest_framework/serializers.py", "data"),
    ("        transaction (Atomic enter/exit)", "django/db/transaction.py", "__exit__"),
    ("        query parameters (parse_query)", "api/pagination.py", "parse_query"),
    ("        page query (page)", "posts/queries.py", "page"),
    ("        post query (visible_post)", "posts/queries.py", "visible_post"),
    ("        Link header (link_header)", "api/paging.py", "link_header"),
    ("        serializer (to_representation)", "posts/serializers.py", "to_representation"),
    ("      throttles (check_throttles)", "rest_framework/views.py", "check_throttles"),
    ("      finalize_response (ETag, Cache-Control)", "rest_framework/views.py", "finalize_response"),
    ("      JSON rendering (JSONRenderer.render)", "rest_framework/renderers.py", "render"),
    ("    SQL built (SQLCompiler.as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
    ("    SQL run (CursorWrapper._execute)", "django/db/backends/utils.py", "_execute"),
    ("    queries run, rows to models (ModelIterable.__iter__)", "django/db/models/query.py", "__iter__"),
    ("    connection health check (is_usable)", "django/db/backends/postgresql/base.py", "is_usable"),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--scenarios", default="list,get one", help="comma-separated: list, get one, create, vote"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    for setting in ("POST_RATE", "VOTE_RATE"):  # as bench/run.py serves the project
        os.environ[setting] = "1000000/minute"
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from accounts.models import User
    from accounts.tokens import AccessToken
    from bench.probe import clear_votes, delete_posts_after, newest_post, pick_posts

    application = get_wsgi_application()
    token = str(AccessToken.for_user(User.objects.get(email="user1@example.com")))
    post_id, vote_posts = pick_posts(user_email="user1@example.com")
    spare = vote_posts[-1]
    votes = [json.dumps({"post_id": spare, "dir": d}).encode() for d in (1, 0)]
    post = json.dumps(
        {"title": "a bench post", "content": "Hello from the bench.", "published": True}
    ).encode()
    scenarios = {
        "list": request_caller(application, "/posts/?limit=10", token),
        "get one": request_caller(application, f"/posts/{post_id}", token),
        "create": request_caller(
            application,
            "/posts/",
            token,
            method="POST",
            bodies=[post],
            content_type="application/json",
            expect="201",
        ),
        "vote": request_caller(
            application,
            "/vote/",
            token,
            method="POST",
            bodies=votes,
            content_type="application/json",
            expect="201",
        ),
    }
    clear_votes(user_email="user1@example.com", post_ids=[spare])
    newest = newest_post()
    for name in args.scenarios.split(","):
        path = {"create": "POST /posts/", "vote": "POST /vote/"}.get(name, name)
        call = scenarios[name]
        call()  # connections opened, code paths warmed
        number = args.requests // 4
        wall = min(timeit.repeat(call, number=number, repeat=5)) / number
        cpu = min(timeit.repeat(call, number=number, repeat=5, timer=time.process_time)) / number
        print(
            f"\n== {name} ({path}), in-process: {wall * 1e6:.0f} µs per request, of which "
            f"{cpu * 1e6:.0f} µs of this process's CPU; load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        # CPU time, not wall time: waits on the database (and on neighbours) do not count.
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(_repeat, call, args.requests)
        print(layers(pstats.Stats(profiler), args.requests))
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue().split("\n", 6)[-1])
    delete_posts_after(newest)
    clear_votes(user_email="user1@example.com", post_ids=[spare])


def request_caller(
    application,
    path: str,
    token: str,
    *,
    method: str = "GET",
    bodies: Sequence[bytes] = (b"",),
    content_type: str = "",
    expect: str = "200",
):
    """A function that sends ``method path`` with the token (when given) through `application`
    and checks the answer's status is `expect`; each call sends the next of `bodies`, in turn
    (a vote, then its removal)."""
    base = wsgi_environ(method, path, token, content_type)
    turns = itertools.cycle(bodies)

    def start_response(status: str, headers: list) -> None:
        if not status.startswith(expect):
            raise SystemExit(f"{method} {path} answered {status}")

    def call() -> None:
        body = next(turns)
        environ = {**base, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        response = application(environ, start_response)
        b"".join(response)
        response.close()

    return call


def wsgi_environ(method: str, path: str, token: str = "", content_type: str = "") -> dict:
    """The WSGI environ of ``method path`` (a path and query) as gunicorn would pass it, with
    the bearer token and content type when given, without a body (``wsgi.input``)."""
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    return environ


def _repeat(call: Callable[[], object], times: int) -> None:
    """Call ``call`` ``times`` times (what the profiler runs)."""
    for _ in range(times):
        call()


def layers(stats: pstats.Stats, requests: int) -> str:
    """The LAYERS' cumulative time per request, in µs, and as a share of the whole request."""
    found: dict[str, float] = {}
    # pstats keeps its table in .stats, which typeshed does not declare.
    for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, suffix, name in LAYERS:
            if function == name and filename.endswith(suffix):
                found[label] = found.get(label, 0.0) + cumulative
    whole = found.get(LAYERS[0][0]) or 1.0
    return "\n".join(
        f"{label:58} {found[label] / requests * 1e6:8.0f} µs {100 * found[label] / whole:5.1f}%"
        for label, _, _ in LAYERS
        if label in found
    )


if __name__ == "__main__":
    main()
