# ruff: noqa: S603  (a local tool: it runs our own code)
"""Instructions per request, counted by valgrind's callgrind: a figure the neighbours of a
shared machine do not move (the same code, data and request give the same count within a
fraction of a percent), for a change too small for requests/s or CPU time to show.

    .venv/bin/python bench/instructions.py [--requests 200] [--user user3@example.com]
        [--checkout DIR ...] PATH [PATH ...]

Each PATH is sent as ``GET PATH`` with the user's bearer token through Django's WSGI handler,
in-process as bench/profiling.py sends it (no HTTP server): a path and query
(``/posts/?limit=10``), or ``next:PATH`` for the page its ``rel="next"`` link gives, ``next*N:PATH``
for the page N links down (``next*100:/feed?limit=10``: 1,000 posts down the feed). For each
checkout (default: this one; e.g. a ``git worktree add`` of another commit, whose code is then
the one measured) and path, two processes run under callgrind: each sends the path 30 times
to warm up, then W and W + ``--requests`` times; the difference of their counts over
``--requests`` is the request's own, start-up and warm-up excluded. Needs valgrind (Debian's
package) and the data of DATABASE_URL (what `make bench` seeded: its users, e.g. user3, who
follows 1,000 users at 1M and 10M). Each count takes about a minute at 200 requests.
"""

import argparse
import io
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.profiling import wsgi_environ  # noqa: E402  (this checkout's, whichever is measured)

WARM_UP = 30
BASE = 50  # requests in the first process after its warm-up; the second sends --requests more
FOLLOW = re.compile(r"next(?:\*(\d+))?:(.*)")
LINK = re.compile(r'<https?://[^/>]+([^>]*)>; rel="next"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--user", default="user3@example.com")
    parser.add_argument("--checkout", action="append", default=[], help="a checkout to measure (repeatable)")
    parser.add_argument("--inner", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        serve(args.paths[0], args.user, args.inner)
        return
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "PYTHONHASHSEED": "0",  # the same hashing in both processes, so the same work
    }
    for checkout in args.checkout or [str(ROOT)]:
        for path in args.paths:
            counts = [
                count(checkout, path, args.user, requests, env) for requests in (BASE, BASE + args.requests)
            ]
            per_request = (counts[1] - counts[0]) / args.requests
            print(f"{checkout}  {path}  {per_request / 1e6:.3f} M instructions per request", flush=True)


def count(checkout: str, path: str, user: str, requests: int, env: dict[str, str]) -> int:
    """The instructions callgrind counts in a process that sends `path` `requests` times after
    its warm-up, in `checkout`'s code. Raises SystemExit with the process's output if it fails."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        "--inner",
        str(requests),
        "--user",
        user,
        path,
    ]
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(command)} failed in {checkout}:\n{done.stdout}\n{done.stderr[-3000:]}")
    return int(found.group(1))


def serve(path: str, email: str, requests: int) -> None:
    """Send `path` (after following its ``next:`` links) WARM_UP + `requests` times as `email`,
    through the current directory's code (this checkout's bench/profiling.py sends them)."""
    sys.path.insert(0, os.getcwd())  # the measured code, ahead of this checkout's
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from accounts.models import User
    from accounts.tokens import AccessToken

    application = get_wsgi_application()
    token = str(AccessToken.for_user(User.objects.get(email=email)))
    if match := FOLLOW.fullmatch(path):
        path = match.group(2)
        for _ in range(int(match.group(1) or 1)):
            found = LINK.search(get(application, path, token).get("Link", ""))
            if found is None:
                raise SystemExit(f"{path} has no rel=next link")
            path = found.group(1)
    for _ in range(WARM_UP + requests):
        get(application, path, token)


def get(application, path: str, token: str) -> dict[str, str]:
    """``GET path`` with the token through `application`; its headers. Raises SystemExit
    unless it answers 200."""
    answer: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"GET {path} answered {status}")
        answer.update(headers)

    environ = {**wsgi_environ("GET", path, token), "wsgi.input": io.BytesIO(b"")}
    response = application(environ, start_response)
    b"".join(response)
    response.close()
    return answer


if __name__ == "__main__":
    main()
