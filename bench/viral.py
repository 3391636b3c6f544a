"""A viral post: many users voting and un-voting on one post at once, against the same users each
on a post of their own, on the project and on the bare app, in alternating rounds of one run.

Each connection of wrk is one client; the users are twice as many as the connections, so a
user's add has been answered before its remove is sent (bench/wrk.lua's passes) and every answer
is a 201. After the rounds the one post's count as read must equal its rows (printed), and no
pending delta may be left once ``counter.fold()`` has run.
"""

import tempfile
import time
from pathlib import Path

from accounts.models import User
from accounts.tokens import AccessToken
from posts.models import Post
from votes import counter
from votes.models import Vote

#: Concurrent clients (wrk connections), as the viral-post scenario states it.
CLIENTS = 200
ONE, SPREAD = f"vote 1 post x{CLIENTS}", f"vote {CLIENTS} posts x{CLIENTS}"


def voters_and_posts(post_id: int) -> tuple[list[User], dict[str, list[tuple[User, int]]]]:
    """2 x CLIENTS users (not user1, not the post's owner) and, for each case, the (user, post)
    pairs: all on `post_id`, or each user on a published post of its own that it does not own."""
    post = Post.objects.get(pk=post_id)
    users = list(
        User.objects.exclude(email="user1@example.com")
        .exclude(pk=post.owner_id)
        .order_by("id")[: 2 * CLIENTS]
    )
    if len(users) < 2 * CLIENTS:
        raise SystemExit(f"the viral post needs {2 * CLIENTS} users; the dataset has {len(users)}")
    candidates = iter(
        Post.objects.filter(published=True, hidden=False)
        .exclude(pk=post_id)
        .order_by("id")
        .values_list("id", "owner_id")
    )
    spread = []
    for user in users:
        own_post = next(pid for pid, owner in candidates if owner != user.pk)
        spread.append((user, own_post))
    return users, {ONE: [(user, post_id) for user in users], SPREAD: spread}


def vote_file(pairs: list[tuple[User, int]], folder: Path) -> Path:
    """The lines bench/wrk.lua reads: "token post_id", one per voter."""
    path = folder / f"votes-{len(pairs)}-{pairs[0][1]}-{pairs[-1][1]}.txt"
    path.write_text("".join(f"{AccessToken.for_user(user)} {post}\n" for user, post in pairs))
    return path


def clear(users: list[User], pairs: list[tuple[User, int]]) -> None:
    """No vote of these users on these posts: each round starts its cycle with adds."""
    time.sleep(10.5)  # the requests wrk left in flight (up to its 10 s timeout) are answered first
    Vote.objects.filter(user__in=users, post_id__in={post for _, post in pairs}).delete()


def measure(project, bare, args, wrk, best) -> list[dict]:
    """The two cases' rows ({"scenario", project figures..., "bare": {...}}), rounds alternating
    case and server, and a line checking the one post's count against its rows."""
    post_id = int(
        Post.objects.filter(published=True, hidden=False).order_by("id").values_list("id", flat=True)[0]
    )
    users, cases = voters_and_posts(post_id)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        files = {name: vote_file(pairs, Path(folder)) for name, pairs in cases.items()}
        rounds: dict[tuple[str, str], list[dict]] = {}
        for _ in range(args.rounds):
            for name, pairs in cases.items():
                for label, server in (("project", project), ("bare", bare)):
                    clear(users, pairs)
                    env = {"BENCH_MODE": "vote", "BENCH_VOTE_FILE": str(files[name])}
                    result = wrk(server, args, env, args.duration, connections=CLIENTS)
                    rounds.setdefault((name, label), []).append(result)
        time.sleep(1)
        shown = Post.objects.with_vote_count().get(pk=post_id).vote_count
        stored = Vote.objects.filter(post_id=post_id).count()
        counter.fold()
        folded = Post.objects.get(pk=post_id).vote_total
        print(f"   viral post {post_id}: votes shown {shown}, rows {stored}, after fold {folded}", flush=True)
        if not shown == stored == folded:
            raise SystemExit("the viral post's count disagrees with its rows")
        for name, pairs in cases.items():
            clear(users, pairs)
            rows.append(
                {"scenario": name, **best(rounds[name, "project"]), "bare": best(rounds[name, "bare"])}
            )
    return rows
