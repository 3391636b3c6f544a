"""`python bench/replicas.py`: the list route through a read replica vs the primary alone.

Builds what deploy/tests/test_replicas.py builds (a primary, a streaming replica, PgBouncer in
transaction pooling mode in front of the primary, two app instances of 2 workers x 4 threads,
Redis at TEST_REDIS_URL), seeds posts, then prints, from one run: list requests/s while reads go
to the replica, the replica's replay lag as the primary measures it, PgBouncer's client and
server connections, the 5xx answered while the replica is stopped mid-run, and list requests/s
on the primary alone afterwards. Bounded: a fixed number of requests per phase, loopback only.
"""

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from deploy.tests import pg_cluster  # noqa: E402
from deploy.tests.pg_cluster import ReadLoad, watched  # noqa: E402
from testing.databases import TEST_REDIS_URL  # noqa: E402
from testing.servers import start_server  # noqa: E402

PIN_SECONDS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=600, help="list requests per phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args()
    if reason := pg_cluster.missing():
        sys.exit(reason)
    os.chdir(ROOT)
    base = {"SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "false", "REDIS_URL": TEST_REDIS_URL}
    with pg_cluster.cluster(base) as cluster, tempfile.TemporaryDirectory() as logs:
        env = {
            **base,
            "DATABASE_URL": cluster.bouncer_url,
            "DATABASE_TRANSACTION_POOLING": "true",
            "DATABASE_REPLICA_URLS": cluster.replica_url,
            "REPLICA_PIN_SECONDS": str(PIN_SECONDS),
            "REPLICA_MAX_LAG_SECONDS": str(PIN_SECONDS),
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
        }
        servers = [start_server(env, Path(logs), workers=2) for _ in range(2)]
        try:
            email = "bench@example.com"
            servers[0].request("POST", "/users/", json_body={"email": email, "password": "password123"})
            login = servers[0].request("POST", "/login", form={"username": email, "password": "password123"})
            token = login.json()["access_token"]
            cluster.query(
                cluster.primary_port,
                "INSERT INTO posts_post (title, content, published, owner_id, created_at, vote_total) "
                "SELECT 'post ' || n, 'content', true, (SELECT id FROM accounts_user), now(), 0 "
                "FROM generate_series(1, %s) n RETURNING 1",
                (args.posts,),
            )
            time.sleep(PIN_SECONDS + 0.5)
            ReadLoad(servers, token, count=50, concurrency=args.concurrency).run()  # warm connections

            replica_reads = cluster.post_reads(cluster.replica_port)
            on_replica = ReadLoad(servers, token, count=args.requests, concurrency=args.concurrency)
            pools, lags = watched(cluster, on_replica)
            replica_reads = cluster.post_reads(cluster.replica_port) - replica_reads

            outage = ReadLoad(servers, token, count=args.requests, concurrency=args.concurrency)

            def stop_replica() -> None:
                while outage.done < args.requests // 4:
                    time.sleep(0.02)
                cluster.stop_replica()

            watched(cluster, outage, during=stop_replica)
            primary_alone = ReadLoad(servers, token, count=args.requests, concurrency=args.concurrency)
            primary_pools, _ = watched(cluster, primary_alone)
        finally:
            for server in servers:
                server.terminate(timeout=10)

    errors = [status for status in outage.statuses if status >= 500 or status == 0]
    print(
        f"list via replica:  {on_replica.per_second:7.1f} requests/s ({replica_reads} post reads on the replica)"
    )
    print(f"list primary only: {primary_alone.per_second:7.1f} requests/s")
    print(f"ratio replica/primary: {on_replica.per_second / primary_alone.per_second:.2f}")
    print(f"replica replay lag seen: max {max(lags) * 1000:.1f} ms")
    both = pools + primary_pools
    print(
        f"PgBouncer: at most {max(p['clients'] for p in both)} client connections, "
        f"{max(p['servers'] for p in both)} server connections (pool size {pg_cluster.POOL_SIZE})"
    )
    print(
        f"replica stopped after {args.requests // 4} of {args.requests} requests: {len(errors)} 5xx or no answer"
    )
    print(f"statuses during the outage: { {s: outage.statuses.count(s) for s in set(outage.statuses)} }")


if __name__ == "__main__":
    main()
