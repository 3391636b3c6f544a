# ruff: noqa: S101, S310  (a local tool: it runs our own commands and requests our own server)
"""`make bench-webhooks` (and the last lines of `make bench`): what a webhook subscription costs
the write path, and how fast the worker delivers.

1. ``POST /posts/`` under gunicorn (the project's gunicorn.conf.py, DEBUG off) from
   ``--clients`` threads, in ``--batches`` batches of ``--batch`` posts, with no endpoint and
   with one endpoint subscribed to ``post.created`` whose receiver sleeps 10 s before
   answering. The two alternate batch by batch (A B B A ...), so that a busy moment of the
   machine falls on both alike; the worker (``manage.py worker``) runs throughout. Prints
   posts/s over all the batches of each, and the ratio none / subscribed (goal: at most 1.2).
2. ``--events`` events recorded in one transaction for one endpoint whose receiver answers at
   once; prints the seconds from the commit until the last is delivered, and deliveries/s.

The database is the embedded PostgreSQL unless DATABASE_URL is set.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def post_round(url: str, token: str, clients: int, posts: int) -> float:
    """Posts/s of ``posts`` POST /posts/ sent by ``clients`` threads."""
    body = json.dumps({"title": "a webhook bench post", "content": "some content"}).encode()
    each = posts // clients
    failures: list[int] = []

    def client() -> None:
        for _ in range(each):
            request = urllib.request.Request(
                url + "/posts/",
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status = answer.status
            except urllib.error.HTTPError as error:  # a 4xx or 5xx: counted, not a dead thread
                status = error.code
            if status != 201:
                failures.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - start
    assert not failures, failures
    return each * clients / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=40, help="posts per batch")
    parser.add_argument("--batches", type=int, default=24, help="batches in all, half of them subscribed")
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    os.environ.update({"DEBUG": "false", "WEBHOOK_ALLOW_PRIVATE": "true", "REDIS_URL": ""})
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.chdir(ROOT)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], check=True)
    warnings.filterwarnings("ignore", message="No directory at")

    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from accounts.models import User
    from accounts.tokens import issue_pair
    from bench.servers import NO_WRITE_LIMITS, Server
    from testing.receiver import receiver
    from webhooks import events
    from webhooks.models import Delivery, Endpoint
    from webhooks.signing import new_secret

    Endpoint.objects.all().update(is_active=False)
    user, _ = User.objects.get_or_create(email="webhook-bench@example.com")
    token = issue_pair(user)["access_token"]
    server = Server(env=NO_WRITE_LIMITS)  # 960 posts by one user: past POST_RATE otherwise
    worker = subprocess.Popen([sys.executable, "manage.py", "worker"], cwd=ROOT, start_new_session=True)
    try:
        server.start()
        with receiver(delay=10) as slow, receiver() as fast:
            endpoint = Endpoint.objects.create(
                url=slow.url(), events=["post.created"], secret=new_secret(), is_active=False,
                description="bench: a receiver that sleeps 10 s",
            )  # fmt: skip
            post_round(server.url, token, args.clients, args.clients * 5)  # warm-up
            seconds = {False: 0.0, True: 0.0}
            for n in range(args.batches):
                subscribed = n % 4 in (1, 2)  # A B B A
                Endpoint.objects.filter(pk=endpoint.pk).update(is_active=subscribed)
                seconds[subscribed] += args.batch / post_round(server.url, token, args.clients, args.batch)
            posts = args.batch * args.batches // 2
            none, one = posts / seconds[False], posts / seconds[True]
            print(
                f"POST /posts/, {args.clients} clients, {posts} posts each way in alternating batches of {args.batch}:"
            )
            print(f"  no endpoint                        {none:8.1f} posts/s")
            print(f"  1 endpoint, receiver sleeping 10 s {one:8.1f} posts/s")
            print(f"  ratio none / subscribed: {none / one:.2f} (goal: at most 1.20)")
            pending_slow = Delivery.objects.filter(endpoint=endpoint, status="pending").count()
            print(f"  deliveries to the sleeping receiver still pending: {pending_slow}")

            Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
            Delivery.objects.filter(endpoint=endpoint, status="pending").update(status="failed")
            time.sleep(settings.WEBHOOK_TIMEOUT + 1)  # the attempts to it in flight end first
            quick = Endpoint.objects.create(url=fast.url(), events=["vote.created"], secret=new_secret())
            with transaction.atomic():
                for n in range(args.events):
                    events.record("vote.created", {"post_id": n, "user_id": user.pk})
            start = time.perf_counter()
            while Delivery.objects.filter(endpoint=quick, status="pending").exists():
                time.sleep(0.05)
            took = time.perf_counter() - start
            got = len({r.headers["webhook-id"] for r in fast.requests})
            print(f"{args.events} events to a receiver that answers at once: {took:.1f} s, "
                  f"{args.events / took:.0f} deliveries/s ({got} distinct webhook-ids received)")  # fmt: skip
            Endpoint.objects.filter(pk=quick.pk).update(is_active=False)
    finally:
        server.stop()
        worker.terminate()
        worker.wait(30)
        # Its posts go with it: the next `make bench` seeds a database of seeded users only.
        User.objects.filter(pk=user.pk).delete()


if __name__ == "__main__":
    main()
