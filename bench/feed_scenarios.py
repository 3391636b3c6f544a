# ruff: noqa: S310  (a local tool: it requests the bench's own server)
"""The home feed's scenarios in `make bench` (bench/run.py), at the sizes whose data holds the
social graph ``manage.py seed --follows`` loads: user1 is followed by every other user;
user2, user3 and user4 follow exactly 10, 1,000 and 10,000 users (capped at users - 1).

Beside the list (``GET /posts/?limit=10``, measured again in the same rounds, as the yardstick):
the feed's first page and a page DEEP posts down (by the cursors of its ``Link`` headers) for each
of the three readers, each of these reads also against the bare app when bench/run.py serves one
(bench/bare_app.py's ``/feed``: the same statement, without the framework), and ``POST /posts/`` by user1 (the celebrity) against a user nobody
follows (or the least followed, graph()). A size whose data holds no such graph gets one row saying why, and nothing is run.
bench/feed.py runs the same scenarios on a database of its own and compares the feed's designs.
"""

import json
import urllib.request

from bench.datasets import PASSWORD
from bench.report import load_average
from bench.servers import same_answer

READERS = {10: "user2@example.com", 1_000: "user3@example.com", 10_000: "user4@example.com"}
CELEBRITY = "user1@example.com"
DEEP = 1_000  # posts down the feed for the deep page
LIST = "list (in the feed's rounds)"


def graph() -> tuple[dict[int, str], int, str] | str:
    """The readers' emails by followee count (checked), the celebrity's follower count and the
    email of an active user nobody follows (or, when everyone has a follower, the least followed
    of the last 1,000 users); or why the data holds no graph to measure."""
    from django.db.models import Count, Exists, OuterRef

    from accounts.models import User
    from follows.models import Follow

    if not Follow.objects.exists():
        return "no follows in the data (manage.py seed --follows loads them)"
    users = User.objects.count()
    for count, email in READERS.items():
        following = Follow.objects.filter(follower__email=email).count()
        if following != min(count, users - 1):
            return f"{email} follows {following:,} users, not {min(count, users - 1):,}"
    fans = Follow.objects.filter(followee__email=CELEBRITY).count()
    if fans != users - 1:
        return f"{CELEBRITY} is followed by {fans:,} users, not by every other one ({users - 1:,})"
    lonely = (
        User.objects.filter(is_active=True)
        .exclude(Exists(Follow.objects.filter(followee=OuterRef("pk"))))
        .order_by("-pk")
        .values_list("email", flat=True)
        .first()
    )
    if lonely is None:  # everyone has a follower: the least followed of the last 1,000 users
        last = User.objects.filter(is_active=True).order_by("-pk").values_list("pk", flat=True)[:1_000]
        lonely = (
            User.objects.filter(pk__in=list(last))
            .annotate(fans=Count("follower_set"))
            .order_by("fans", "-pk")
            .values_list("email", flat=True)
            .first()
        )
    if lonely is None:
        return "no active user but the readers and the celebrity"
    return READERS, fans, lonely


def check_plans() -> None:
    """Stop unless the bare app's feed passes follows_feed_ids the project's followee counts
    (follows.feed.FEW_FOLLOWEES, MANY_FOLLOWEES): both pick the same plan, so the same cost. A
    different count gives the same page, so the answers' check alone would not see it."""
    from bench import bare_app
    from follows import feed

    ours = (feed.FEW_FOLLOWEES, feed.MANY_FOLLOWEES)
    if ours != (bare_app.FEW_FOLLOWEES, bare_app.MANY_FOLLOWEES):
        raise SystemExit(f"bench/bare_app.py's feed plans differ from follows.feed's {ours}")


def followers(email: str) -> int:
    from follows.models import Follow

    return Follow.objects.filter(followee__email=email).count()


def deep_page(server, token: str) -> tuple[str, int]:
    """The path of the feed's page DEEP posts down, by the ``rel="next"`` links of the pages
    before it (as a client scrolling down holds it), and how many posts down it starts (fewer
    when the feed is shorter: its last full page)."""
    path, depth, last_full = "/feed?limit=10", 0, ("/feed?limit=10", 0)
    while depth < DEEP:
        request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            link, count = response.headers.get("Link", ""), len(json.loads(response.read()))
        if count < 10:
            return last_full
        last_full = (path, depth)
        after = [part for part in link.split(", ") if part.endswith('rel="next"')]
        if not after:
            return last_full
        path, depth = after[0].split(">")[0].split(server.url, 1)[1], depth + count
    return path, depth


def measure(project, bare, args, wrk, best, probe) -> list[dict]:
    """The feed's rows ({"scenario", figures...}), the rounds of all scenarios in turns; then
    lines giving each against the list and the goals' ratios. With `bare` (bench/bare_app.py's
    server, or None), every read also runs against it in the same turns, after a check that it
    answers byte for byte as the project does; its figures are under the row's "bare". One row
    with a "note" and nothing run when the data holds no graph."""
    if bare is not None:
        check_plans()
    found = graph()
    if isinstance(found, str):
        print(f"   feed: not measured: {found}", flush=True)
        return [{"scenario": "feed", "note": f"not measured: {found}"}]
    readers, fans, lonely = found
    tokens = {n: project.login(email, PASSWORD) for n, email in readers.items()}
    reads: list[tuple[str, dict]] = [(LIST, {"BENCH_PATH": "/posts/?limit=10", "BENCH_TOKEN": tokens[10]})]
    for n, token in tokens.items():
        path, depth = deep_page(project, token)
        reads.append((f"feed, follows {n:,}", {"BENCH_PATH": "/feed?limit=10", "BENCH_TOKEN": token}))
        reads.append((f"feed {depth:,} deep, follows {n:,}", {"BENCH_PATH": path, "BENCH_TOKEN": token}))
    writes = [
        (f"post by user1 ({fans:,} followers)", {"BENCH_TOKEN": project.login(CELEBRITY, PASSWORD)}),
        (
            f"post by {lonely} ({followers(lonely):,} followers)",
            {"BENCH_TOKEN": project.login(lonely, PASSWORD)},
        ),
    ]
    for name, env in reads:
        if (status := project.status(env["BENCH_PATH"], env["BENCH_TOKEN"])) != 200:
            raise SystemExit(f"{name}: HTTP {status}")
        if bare is not None:
            same_answer(project, bare, env["BENCH_PATH"], env["BENCH_TOKEN"])
    servers = [project] if bare is None else [project, bare]
    rounds: dict[tuple[str, object], list[dict]] = {}
    newest = probe.newest_post()
    # The reads first: the writes' posts would be the newest, read past by every later page.
    for batch, mode, serving in ((reads, "get", servers), (writes, "post", [project])):
        for _ in range(args.rounds):
            for name, env in batch:
                for server in serving:  # in turns: the ratio sees the same neighbours
                    rounds.setdefault((name, server), []).append(
                        wrk(server, args, {"BENCH_MODE": mode, **env}, args.duration)
                    )
    probe.delete_posts_after(newest)  # the data stays as seeded
    rows = []
    for name, _ in reads + writes:
        row = {"scenario": name, **best(rounds[name, project])}
        if (name, bare) in rounds:
            row["bare"] = best(rounds[name, bare])
        rows.append(row)
    for line in ratios(rows):
        print(f"   {line}", flush=True)
    print(f"   feed scenarios done; load average {load_average()}", flush=True)
    return rows


def ratios(rows: list[dict]) -> list[str]:
    """Each feed scenario's requests/s against the list's (and the bare app's, when measured),
    and the goals' ratios (half the list; the 10,000 reader within 1.5x the 10 reader's time;
    the celebrity's post within 2x)."""
    by = {row["scenario"]: row for row in rows}
    yardstick = by[LIST]["rps"]
    lines = [
        f"feed: {row['scenario']}: {row['rps'] / yardstick:.2f} of the list"
        + (f", {100 * row['rps'] / row['bare']['rps']:.0f}% of the bare app" if "bare" in row else "")
        for row in rows[1:7]
    ]
    for kind in (0, 1):  # first pages, deep pages
        ten, most = rows[1 + kind], rows[5 + kind]
        lines.append(
            f"feed: {most['scenario']} / {ten['scenario']} (p50 time): {most['p50_ms'] / ten['p50_ms']:.2f}x"
        )
    celebrity, anyone = rows[7], rows[8]
    lines.append(
        f"feed: {celebrity['scenario']} / {anyone['scenario']} (p50 time): "
        f"{celebrity['p50_ms'] / anyone['p50_ms']:.2f}x"
    )
    return lines
