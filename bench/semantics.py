# ruff: noqa: S310, S603, S607  (a local tool: it runs our own commands and requests our own server)
"""`make bench-semantics`: what the HTTP semantics of docs/api.md, "HTTP semantics" cost, in one run.

Two gunicorns serve one seeded database side by side: this checkout, and the code just before
the semantics came in (`--before`, by default the parent of the commit that added the `api`
app), exported with `git archive`. Each size is seeded, then every scenario runs under wrk as in
bench/run.py (best of `--rounds`, the rounds taken in turns across the scenarios):

- list and get-one on the code before and now (now: with `Link`, `ETag`, `Cache-Control`);
- list with a matching `If-None-Match` (304), and with `Prefer: count=exact` (plain and searched);
- the page 90% of the way down the list by `skip` and by the `cursor` of its `Link` header.

It prints one table, and the ratios that answer the questions (now / before, cursor / skip,
count / plain) from that same run.
"""

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DRAIN_SECONDS = 12
sys.path.insert(0, str(ROOT))

from bench import run as bench  # noqa: E402
from bench.datasets import seed_options  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1k,1M", help="comma-separated, from: " + ",".join(bench.SIZES))
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per scenario; the best is kept")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--before", default=None, help="the commit to compare with (default: see above)")
    parser.add_argument(
        "--no-seed", action="store_true", help="measure the data an earlier run seeded at that size"
    )
    args = parser.parse_args()
    bench.ensure_wrk()
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.chdir(ROOT)
    bench.run([bench.PYTHON, "manage.py", "migrate", "--noinput", "-v0"])
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    from bench import probe
    from testing.databases import database_env

    before_ref = args.before or default_before()
    print(bench.machine(probe.postgres_version()), flush=True)
    print(f"before: {before_ref[:12]} ({git('log', '-1', '--format=%s', before_ref)[:90]})", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-before-") as before_root:
        export(before_ref, Path(before_root))
        # The same database for both: the one this process uses, named explicitly, so the old
        # code's own embedded-database lookup (its .local/) plays no part.
        shared_db = database_env(connection.settings_dict)
        now, before = bench.Server(env=shared_db), bench.Server(Path(before_root), env=shared_db)
        for server in (now, before):
            server.database_pid = probe.postmaster_pid()
        try:
            now.start()
            before.start()
            for size in args.sizes.split(","):
                results[size] = measure(now, before, size, args, probe)
        finally:
            now.stop()
            before.stop()
    print(report(results), flush=True)


def git(*arguments: str) -> str:
    return subprocess.run(
        ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def default_before() -> str:
    added = git("log", "-1", "--diff-filter=A", "--format=%H", "--", "api/apps.py")
    return git("rev-parse", f"{added}^")


def export(ref: str, directory: Path) -> None:
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)


def measure(
    now: "bench.Server", before: "bench.Server", size: str, args: argparse.Namespace, probe: ModuleType
) -> list[dict]:
    counts = bench.SIZES[size]
    started = time.monotonic()
    if not args.no_seed:
        bench.run([bench.PYTHON, "manage.py", "seed", *seed_options(size)])
    seeded = (
        "as an earlier run seeded it" if args.no_seed else f"seeded in {time.monotonic() - started:.0f} s"
    )
    print(f"== {size}: {seeded}", flush=True)
    token = now.login("user1@example.com", bench.PASSWORD)
    post_id, _ = probe.pick_posts(user_email="user1@example.com")
    deep = counts["posts"] * 9 // 10
    list_path = "/posts/?limit=10"
    etag = fetch(now, list_path, token)[1]["ETag"]
    cursor_path = next_link(fetch(now, f"/posts/?limit=10&skip={deep - 10}", token)[1])
    count = {"BENCH_HEADER": "Prefer: count=exact"}
    scenarios = [
        ("list, before", before, {"BENCH_PATH": list_path}),
        ("list", now, {"BENCH_PATH": list_path}),
        ("get one, before", before, {"BENCH_PATH": f"/posts/{post_id}"}),
        ("get one", now, {"BENCH_PATH": f"/posts/{post_id}"}),
        (
            "list, If-None-Match (304)",
            now,
            {"BENCH_PATH": list_path, "BENCH_HEADER": f"If-None-Match: {etag}"},
        ),
        ("search, before", before, {"BENCH_PATH": f"{list_path}&search=django"}),
        (f"cursor at {deep}", now, {"BENCH_PATH": cursor_path}),
        # The costly ones last: each is followed by a pause (see below).
        ("list, count=exact", now, {"BENCH_PATH": list_path, **count}),
        ("search, count=exact", now, {"BENCH_PATH": f"{list_path}&search=django", **count}),
        (f"skip={deep}", now, {"BENCH_PATH": f"/posts/?limit=10&skip={deep}"}),
    ]
    costly = {"list, count=exact", "search, count=exact", f"skip={deep}"}
    for server in (now, before):  # warm up
        bench.wrk(server, args, {"BENCH_MODE": "get", "BENCH_PATH": list_path, "BENCH_TOKEN": token}, 2)
    # Round after round over every scenario, so that a neighbour's load falls on all of them alike
    # and each "before" is measured beside its "now".
    rounds: dict[str, list[dict]] = {name: [] for name, _, _ in scenarios}
    for _ in range(args.rounds):
        for name, server, env in scenarios:
            env = {"BENCH_MODE": "get", "BENCH_TOKEN": token, **env}
            rounds[name].append(bench.wrk(server, args, env, args.duration))
            if name in costly:
                # Requests wrk gave up on still run in the server and the database: let them
                # finish before the next scenario, or they would be counted against it.
                time.sleep(DRAIN_SECONDS)
    rows = []
    for name, _, _ in scenarios:
        row = {"scenario": name, **max(rounds[name], key=lambda r: r["rps"])}
        row["failed"] = sum(r["failed"] for r in rounds[name])
        print(f"   {name:28} {json.dumps(row)}", flush=True)
        rows.append(row)
    return rows


def fetch(server: "bench.Server", path: str, token: str) -> tuple[bytes, dict]:
    request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), dict(response.headers)


def next_link(headers: dict) -> str:
    link = re.search(r'<([^>]+)>; rel="next"', headers["Link"])
    if link is None:
        raise ValueError(f"no next page in Link: {headers['Link']}")
    parts = urllib.parse.urlsplit(link[1])
    return f"{parts.path}?{parts.query}"


def report(results: dict[str, list[dict]]) -> str:
    lines = [
        "| size | scenario | req/s | p50 ms | p99 ms | failed | app CPU ms/req | db CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size, rows in results.items():
        for r in rows:
            db = "-" if r["db_cpu_ms"] is None else f"{r['db_cpu_ms']:.2f}"
            lines.append(
                f"| {size} | {r['scenario']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['failed']} | {r['app_cpu_ms']:.2f} | {db} |"
            )
    lines += ["", "| size | ratio | req/s | app + db CPU per request |", "|---|---|---:|---:|"]
    for size, rows in results.items():
        by = {r["scenario"]: r for r in rows}
        deep = next(name for name in by if name.startswith("skip="))
        cursor = next(name for name in by if name.startswith("cursor at"))
        for label, new, old in [
            ("list now / before", "list", "list, before"),
            ("get one now / before", "get one", "get one, before"),
            ("list 304 / list 200", "list, If-None-Match (304)", "list"),
            ("list count=exact / list", "list, count=exact", "list"),
            ("search count=exact / search before", "search, count=exact", "search, before"),
            (f"{cursor} / first page", cursor, "list"),
            (f"{deep} / first page", deep, "list"),
        ]:
            a, b = by[new], by[old]
            lines.append(f"| {size} | {label} | {a['rps'] / b['rps']:.2f} | {cpu(a) / cpu(b):.2f} |")
    return "\n".join(lines)


def cpu(row: dict) -> float:
    return row["app_cpu_ms"] + (row["db_cpu_ms"] or 0)


if __name__ == "__main__":
    main()
