"""`make bench`: the app served as in production, under wrk, at 1k, 1M and 10M posts, beside a
bare WSGI app (bench/bare_app.py) that answers the same reads and writes on the same data.

Two gunicorns per database, both with the project's gunicorn.conf.py, DEBUG off, the same
SECRET_KEY and the same database, on free ports of 127.0.0.1: the project (config.wsgi) and the
bare app. The rounds of a compared scenario alternate between them, so each ratio comes from
one run on one machine state. One pair serves 1k and 1M (worker memory is compared across
them); 10M has its own database, kept between runs (bench/datasets.py), and its own pair. The
database is the embedded PostgreSQL unless DATABASE_URL is set. Every wrk run is bounded by
--duration; the servers are stopped at the end, on failure too.

With --original=DIR, the original course app (FastAPI under uvicorn, 4 workers: see
bench/original.py for what DIR holds) is served too, on a copy of the same rows in its own
tables, and list and get-one run rounds against it in turns with the project and the bare app,
at 1k and 1M only (at 10M it takes minutes per request). Its answers are checked for their
shape (200, a list of 10 posts; an object), not byte for byte, and the report adds its rows and
the project / original ratios. Its tables are dropped at the end (made anew from the seeded
rows by every run).

    make bench ARGS="--sizes=1k,1M --original=/path/to/course-app --scenarios=list,get one"
"""

import argparse
import json
import os
import secrets
import sys
import time
import urllib.parse
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import abuse, original  # noqa: E402  (abuse: one user's worst reads; original: the course app)

# bench/semantics.py uses these through this module.
from bench.datasets import PASSWORD, SIZES  # noqa: E402
from bench.report import COMPARED, READS, load_average, machine, report  # noqa: E402
from bench.servers import (  # noqa: E402
    BARE_APP,
    NO_SEARCH_LIMITS,
    NO_WRITE_LIMITS,
    PYTHON,
    Server,
    ensure_wrk,
    run,
    same_answer,
    wrk,
)

# Why the original is measured at 1k and 1M only (bench/original.py's SIZES).
ORIGINAL_SKIPPED = "not served (its list and get-one join all votes: minutes per request)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1k,1M,10M", help="comma-separated, from: " + ",".join(SIZES))
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per scenario; the best is kept")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--scenarios", default="", help="comma-separated: only these scenarios (default: all)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn workers (WEB_CONCURRENCY; 0: its default)"
    )
    parser.add_argument(
        "--cpus", default="", help="run both servers under taskset -c CPUS (e.g. 0: one core)"
    )
    parser.add_argument(
        "--allow-existing-data",
        metavar="DATABASE_NAME",
        default="",
        help="reseed a database that also holds users the seed did not create (see manage.py seed)",
    )
    parser.add_argument(
        "--original",
        metavar="DIR",
        type=Path,
        help="also serve the original course app from DIR (DIR/app, DIR/.venv: see bench/original.py)",
    )
    args = parser.parse_args()
    if args.original:
        args.original = args.original.resolve()
        original.interpreter(args.original)  # a wrong directory stops the run before anything starts
    ensure_wrk()
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.chdir(ROOT)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"])

    import django

    warnings.filterwarnings("ignore", message="No directory at")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench import datasets, feed_scenarios, probe, revocation, viral

    print(machine(probe.postgres_version()), flush=True)
    if args.workers or args.cpus:
        print(f"servers: {args.workers or 'default'} workers each, CPUs {args.cpus or 'all'}", flush=True)
    database_pid = probe.postmaster_pid()
    pairs: dict[str, tuple[Server, Server]] = {}
    originals: dict[str, original.OriginalServer] = {}
    filled: set[str] = set()  # the databases holding the original's tables
    results: dict[str, list[dict]] = {}
    try:
        for size in args.sizes.split(","):
            url, seeded = datasets.prepare(size, args.allow_existing_data)
            print(f"== {size}: {seeded}; load average {load_average()}", flush=True)
            datasets.use_database(url)
            if url not in pairs:
                pairs[url] = start_pair(url, database_pid, args.workers, args.cpus)
            served = None
            if args.original and size in original.SIZES:
                filled.add(url)
                print(f"   {original.fill(url)}", flush=True)
                if url not in originals:
                    originals[url] = original.OriginalServer(args.original, url)
                    originals[url].database_pid = database_pid
                    originals[url].start()
                served = originals[url], url
            elif args.original:
                print(f"   original: {ORIGINAL_SKIPPED} at {size}", flush=True)
            args.size_name = size
            results[size] = bench_size(*pairs[url], args, probe, revocation, viral, served)
            if not args.scenarios or "feed" in args.scenarios.split(","):  # bench/feed_scenarios.py
                results[size] += feed_scenarios.measure(*pairs[url], args, wrk, best, probe)
            if args.original and not served:
                for row in results[size]:
                    if row["scenario"] in COMPARED:
                        row["original"] = {"note": f"{ORIGINAL_SKIPPED} at {size}"}
    finally:
        for pair in pairs.values():
            for server in pair:
                server.stop()
        for server in originals.values():
            server.stop()
        for url in filled:
            original.drop_tables(url)
    print(report(results), flush=True)


def start_pair(url: str, database_pid: int | None, workers: int = 0, cpus: str = "") -> tuple[Server, Server]:
    """The project and the bare app, both serving the database of `url`, with `workers`
    gunicorn workers each (0: gunicorn.conf.py's default), pinned to `cpus` if given."""
    # The per-user write limits would answer most of the vote and reply scenarios with 429s, and
    # the search bounds most of the search scenario's requests.
    env = {"DATABASE_URL": url, "BARE_DATABASE_URL": url, **NO_WRITE_LIMITS, **NO_SEARCH_LIMITS}
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    project, bare = Server(env=env), Server(env=env, app=BARE_APP)
    for server in (project, bare):
        server.database_pid = database_pid
        server.cpus = cpus
        server.start()
    return project, bare


def scenarios(
    post_id: int, vote_posts: list[int], token: str, thread: dict[str, str], reads: dict[str, str]
) -> list[tuple[str, dict]]:
    login_body = urllib.parse.urlencode({"username": "user2@example.com", "password": PASSWORD})
    reply = json.dumps({"content": "a bench reply", "parent_id": int(thread["parent"])})
    return [
        ("GET /", {"BENCH_PATH": "/"}),
        ("list", {"BENCH_PATH": "/posts/?limit=10"}),
        ("search", {"BENCH_PATH": "/posts/?limit=10&search=django"}),
        ("top", {"BENCH_PATH": "/posts/?limit=10&sort=top"}),
        ("page-2", {"BENCH_PATH": reads["page-2"]}),  # the list's rel="next"
        ("get one", {"BENCH_PATH": f"/posts/{post_id}"}),
        ("me", {"BENCH_PATH": "/users/me"}),
        ("users-id", {"BENCH_PATH": reads["users-id"]}),
        ("vote", {"BENCH_MODE": "vote", "BENCH_VOTE_POSTS": ",".join(map(str, vote_posts[:-1]))}),
        ("create", {"BENCH_MODE": "create"}),
        ("login", {"BENCH_MODE": "login", "BENCH_LOGIN_BODY": login_body}),
        # bench/threads.py: a post with ten comments, and one with the size's thread.
        ("comments-10", {"BENCH_PATH": f"/posts/{thread['small']}/comments?limit=10"}),
        ("comments", {"BENCH_PATH": f"/posts/{thread['big']}/comments?limit=10"}),
        ("comments-deep", {"BENCH_PATH": thread["deep"]}),
        (
            "reply",
            {"BENCH_MODE": "post", "BENCH_PATH": f"/posts/{thread['big']}/comments", "BENCH_BODY": reply},
        ),
    ]


def bench_size(
    project: Server,
    bare: Server,
    args: argparse.Namespace,
    probe,
    revocation,
    viral,
    served: tuple[original.OriginalServer, str] | None = None,
) -> list[dict]:
    """One size's rows: each scenario against the project, those the bare app serves too
    (COMPARED, READS) against it as well, and list and get-one against the original when
    `served` ((its server, its database URL)) is given."""
    token = project.login("user1@example.com", PASSWORD)
    post_id, vote_posts = probe.pick_posts(user_email="user1@example.com")
    tokens: dict[Server, str] = {project: token, bare: token}
    warm = [project, bare]
    if served:
        tokens[served[0]] = served[0].login("user1@example.com", PASSWORD)
        warm.append(served[0])
    for server in warm:  # warm up: connections opened, code and plans cached
        wrk(server, args, {"BENCH_PATH": "/posts/?limit=10", "BENCH_TOKEN": tokens[server]}, 3)
        if served and server is served[0]:
            original.drain(served[1])
    only = set(filter(None, args.scenarios.split(",")))
    thread = comment_threads(project, token, args.size_name)
    reads = read_paths(project, token, post_id)
    rows = []
    for name, env in scenarios(post_id, vote_posts, token, thread, reads):
        if only and name not in only:
            continue
        env = {"BENCH_MODE": "get", "BENCH_TOKEN": token, **env}
        servers = [project, bare] if name in COMPARED or name in READS else [project]
        if bare in servers and env["BENCH_MODE"] == "get":
            same_answer(project, bare, env["BENCH_PATH"], token)
            if served and name in COMPARED:
                original.check_answer(served[0], name, env["BENCH_PATH"], tokens[served[0]])
                servers.append(served[0])
        rounds: dict[Server, list[dict]] = {server: [] for server in servers}
        row: dict = {"scenario": name}
        status = project.status(env.get("BENCH_PATH", "/"), token) if env["BENCH_MODE"] == "get" else 200
        if status != 200:
            row["note"] = f"not available (HTTP {status})"
        else:
            for _ in range(args.rounds):
                for server in servers:  # in turns: the ratio sees the same neighbours
                    if name == "vote":  # each round starts its cycle with none of these posts voted
                        time.sleep(1)  # the requests wrk left in flight are answered first
                        probe.clear_votes(user_email="user1@example.com", post_ids=vote_posts)
                    server_env = {**env, "BENCH_TOKEN": tokens[server]}
                    newest = probe.newest_post()
                    rounds[server].append(wrk(server, args, server_env, args.duration, login=name == "login"))
                    if name == "create":  # the dataset stays as seeded
                        probe.delete_posts_after(newest)
                    if served and server is served[0]:
                        original.drain(served[1])
            row.update(best(rounds[project]))
            if bare in servers:
                row["bare"] = best(rounds[bare])
                if served and served[0] in rounds:  # list and get one (the original has no other)
                    row["original"] = best(rounds[served[0]])
        row["queries"] = probe.queries(name, env, token, PASSWORD, spare_post=vote_posts[-1])
        print(f"   {name:8} {json.dumps(row)}; load average {load_average()}", flush=True)
        rows.append(row)
    if not only or "viral" in only:
        for row in viral.measure(project, bare, args, wrk, best):
            print(f"   {row['scenario']} {json.dumps(row)}; load average {load_average()}", flush=True)
            rows.append(row)
    if not only or "abuse" in only:  # another user's list under one user's worst reads (bench/abuse.py)
        posts = SIZES[args.size_name]["posts"]
        from bench import threads

        big_thread = (int(thread["big"]), threads.THREADS[args.size_name])
        summary = abuse.rounds(
            {k: v for k, v in project.extra_env.items() if k not in NO_SEARCH_LIMITS},
            posts,
            16,
            args.duration,
            runs=1,
            floor=True,
            thread=big_thread,
        )
        rows.append({"scenario": "abuse", "note": summary})
    workers = project.sampler.take_all()
    print(f"   project worker peak RSS (MiB): {sorted(round(v) for v in workers.values())}", flush=True)
    check = revocation.measure(token)
    me = next((r for r in rows if r["scenario"] == "me" and "app_cpu_ms" in r), None)
    if me:  # the check's share of the whole request's CPU, GET /users/me being the cheapest
        check["check_share_of_me_request_cpu"] = (
            f"{100 * check['stamp_check_us'] / (1000 * me['app_cpu_ms']):.3f}%"
        )
    print(f"   revocation check: {json.dumps(check)}; load average {load_average()}", flush=True)
    return rows


def comment_threads(project: Server, token: str, size: str) -> dict[str, str]:
    """bench/threads.py's posts, and the path of a page half-way down the big thread (the
    `rel="next"` link of the page at that offset, as a client paging down would hold it)."""
    import urllib.request

    from bench import threads

    big, small, parent, said = threads.seed(size)
    length = threads.THREADS[size]
    # The bench's own server, on http://127.0.0.1.
    request = urllib.request.Request(f"{project.url}/posts/{big}/comments?limit=10&skip={length // 2}")  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        deep = threads.cursor_of(response.headers["Link"])
    print(f"   comments: {said}; deep page at comment {length // 2 + 10}", flush=True)
    return {"big": str(big), "small": str(small), "parent": str(parent), "deep": deep}


def read_paths(project: Server, token: str, post_id: int) -> dict[str, str]:
    """The paths of the reads that need the data: the list's second page (the `rel="next"` link of
    its first, as a client holds it) and the owner of `post_id` (GET /users/{id})."""
    import urllib.request

    from bench import threads

    request = urllib.request.Request(f"{project.url}/posts/?limit=10")  # noqa: S310 (the bench's own server)
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        page_2 = threads.cursor_of(response.headers["Link"])
    owner = json.loads(project.get(f"/posts/{post_id}", token)[1])["Post"]["owner_id"]
    return {"page-2": page_2, "users-id": f"/users/{owner}"}


def best(rounds: list[dict]) -> dict:
    """Neighbours on a shared machine only ever slow a round down: keep the best one."""
    row = dict(max(rounds, key=lambda r: r["rps"]))
    row["rss_mib"] = max(r["rss_mib"] for r in rounds)
    row["failed"] = sum(r["failed"] for r in rounds)
    return row


if __name__ == "__main__":
    main()
