"""What `make bench` prints: the machine, one table of every scenario, and the ratios that answer
issue 17's questions, each taken within the run (the project against the bare app on the same
data at the same moment; each size against 1k)."""

import os
import platform
import urllib.parse
from pathlib import Path

# The reads whose req/s are compared across sizes (flatness), each size against 1k.
FLAT_READS = ["GET /", "list", "search", "top", "get one"]
# bench/viral.py's two cases, one post and a post each (its ONE and SPREAD).
VIRAL = ["vote 1 post x200", "vote 200 posts x200"]
# The scenarios the bare app (bench/bare_app.py) also serves.
COMPARED = ["list", "get one", "create", "vote"]
# The other reads the bare app answers too (not the original: it has no search, cursors or comments).
READS = ["search", "top", "page-2", "me", "users-id", "comments-10", "comments"]
# Issue 17's goals for the project's req/s over the original course app's, by size.
ORIGINAL_GOALS = {"1k": 4, "1M": 100}


def machine(pg_version: str) -> str:
    mem_kib = int(
        next(x for x in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in x).split()[1]
    )
    return (
        f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"{mem_kib / 2**20:.1f} GiB memory, load average {load_average()}\n"
        f"{pg_version}; Python {platform.python_version()}; "
        f"database {database_name()}"
    )


def database_name() -> str:
    """'embedded PostgreSQL' when make's wrapper (devdb/embedded.py) handed over this
    checkout's server as DATABASE_URL, else 'DATABASE_URL'."""
    from devdb.embedded import LOCAL_DIR

    url = urllib.parse.unquote(os.environ.get("DATABASE_URL", ""))
    return "embedded PostgreSQL" if not url or str(LOCAL_DIR) in url else "DATABASE_URL"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _row(size: str, name: str, r: dict) -> str:
    if "note" in r:
        return f"| {size} | {name} | {r['note']} | | | | {r.get('queries', '')} | | | |"
    db_cpu = "-" if r["db_cpu_ms"] is None else format(r["db_cpu_ms"], ".2f")
    return (
        f"| {size} | {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
        f"| {r['failed']} | {r.get('queries', '')} | {r['app_cpu_ms']:.2f} | {db_cpu} | {r['rss_mib']:.0f} |"
    )


def report(results: dict[str, list[dict]]) -> str:
    """Markdown tables of `results` ({size: [row per scenario]}; a compared row holds the bare
    app's figures under "bare")."""
    lines = [
        "| size | scenario | req/s | p50 ms | p99 ms | failed | queries/request | app CPU ms/req "
        "| db CPU ms/req | worker peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, rows in results.items():
        for r in rows:
            lines.append(_row(size, r["scenario"], r))
            if "bare" in r:
                lines.append(_row(size, f"{r['scenario']} (bare app)", r["bare"]))
            if "original" in r:
                lines.append(_row(size, f"{r['scenario']} (original)", r["original"]))
    by = {size: {r["scenario"]: r for r in size_rows} for size, size_rows in results.items()}
    lines += [
        "",
        "| size | scenario | project / bare req/s | project / bare CPU per request (app + db) |",
        "|---|---|---:|---:|",
    ]
    for size, by_name in by.items():
        for name, r in by_name.items():  # every row the bare app was measured in, the feed's too
            if "rps" in r and "rps" in r.get("bare", {}):
                lines.append(
                    f"| {size} | {name} | {100 * r['rps'] / r['bare']['rps']:.0f}% "
                    f"| {_cpu(r) / _cpu(r['bare']):.2f}x |"
                )
    lines += _viral(by)
    lines += _comments(by)
    if any("original" in r for size_rows in results.values() for r in size_rows):
        lines += _against_original(by)
    if "1k" in by and len(by) > 1:
        lines += _flatness(by)
    return "\n".join(lines)


def _against_original(by: dict[str, dict[str, dict]]) -> list[str]:
    """The project against the original course app (bench/original.py), with issue 17's goals."""
    lines = [
        "",
        "| size | scenario | project / original req/s | goal | original / project CPU per request (app + db) |",
        "|---|---|---:|---|---:|",
    ]
    for size, by_name in by.items():
        for name in COMPARED:
            r = by_name.get(name, {})
            theirs = r.get("original", {})
            goal = ORIGINAL_GOALS.get(size)
            if "rps" not in theirs or "rps" not in r:
                lines.append(f"| {size} | {name} | {theirs.get('note', 'not measured')} | | |")
                continue
            if theirs["rps"] == 0:  # every request timed out or failed: no ratio to give
                lines.append(f"| {size} | {name} | original answered none | ≥ {goal}x | |")
                continue
            ratio = r["rps"] / theirs["rps"]
            verdict = "" if goal is None else f"≥ {goal}x: {'met' if ratio >= goal else 'not met'}"
            lines.append(f"| {size} | {name} | {ratio:.1f}x | {verdict} | {_cpu(theirs) / _cpu(r):.1f}x |")
    return lines


def _viral(by: dict[str, dict[str, dict]]) -> list[str]:
    """Votes per second on one post as a share of the same clients on a post each (bench/viral.py)."""
    lines = [
        "",
        "| size | viral post: one post / a post each, votes/s | project | bare app |",
        "|---|---|---:|---:|",
    ]
    for size, by_name in by.items():
        one, spread = by_name.get(VIRAL[0], {}), by_name.get(VIRAL[1], {})
        if "rps" in one and "rps" in spread:
            lines.append(
                f"| {size} | {VIRAL[0]} / {VIRAL[1]} | {100 * one['rps'] / spread['rps']:.0f}% "
                f"| {100 * one['bare']['rps'] / spread['bare']['rps']:.0f}% |"
            )
    return lines if len(lines) > 3 else []


def _cpu(r: dict) -> float:
    return r["app_cpu_ms"] + (r["db_cpu_ms"] or 0.0)


def _flatness(by: dict[str, dict[str, dict]]) -> list[str]:
    larger = [size for size in by if size != "1k"]
    lines = [
        "",
        "| read scenario | " + " | ".join(f"{s} req/s as % of 1k" for s in larger) + " | "
        + " | ".join(f"{s}: % of GET /" for s in by) + " |",
        "|---|" + "---:|" * (len(larger) + len(by)),
    ]  # fmt: skip
    small = by["1k"]
    for name in FLAT_READS:
        if "rps" not in small.get(name, {}):
            continue
        cells = [
            f"{100 * by[s][name]['rps'] / small[name]['rps']:.0f}%" if "rps" in by[s].get(name, {}) else "-"
            for s in larger
        ]
        cells += [
            f"{100 * by[s][name]['rps'] / by[s]['GET /']['rps']:.0f}%"
            if "rps" in by[s].get(name, {}) and "rps" in by[s].get("GET /", {})
            else "-"
            for s in by
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        bare = [by[s][name].get("bare", {}) for s in larger]
        if name in COMPARED and "rps" in small[name].get("bare", {}):
            base = small[name]["bare"]["rps"]
            lines.append(
                f"| {name} (bare app) | "
                + " | ".join(f"{100 * b['rps'] / base:.0f}%" if "rps" in b else "-" for b in bare)
                + " |" + " |" * len(by)
            )  # fmt: skip
    return lines


def _comments(by: dict[str, dict[str, dict]]) -> list[str]:
    """A thread's pages against each other and against the posts list, from the same run."""
    lines = [
        "",
        "| size | comments: big thread's first page / 10-comment post's | deep page / first page | "
        "first page / posts list | req/s |",
        "|---|---:|---:|---:|---|",
    ]
    for size, by_name in by.items():
        first, small, deep, posts = (
            by_name.get(n, {}) for n in ("comments", "comments-10", "comments-deep", "list")
        )
        if not all("rps" in r for r in (first, small, deep, posts)):
            continue
        lines.append(
            f"| {size} | {100 * first['rps'] / small['rps']:.0f}% | {100 * deep['rps'] / first['rps']:.0f}% "
            f"| {100 * first['rps'] / posts['rps']:.0f}% | {posts['rps']:.0f} list, {first['rps']:.0f} first, "
            f"{deep['rps']:.0f} deep |"
        )
    return lines
