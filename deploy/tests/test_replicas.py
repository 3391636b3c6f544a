"""Past one database server, with real processes: a primary, a streaming replica made from it
with pg_basebackup, PgBouncer (transaction pooling) in front of the primary, Redis, and two app
instances reading from the replica. Skipped without the PostgreSQL binaries or pgbouncer,
except in CI (``CI`` set), where .ci/run installs them."""

import os
import threading
import time

import pytest
import redis
from django.conf import settings

from deploy.tests import pg_cluster
from deploy.tests.pg_cluster import POOL_SIZE, ReadLoad, watched
from testing.databases import TEST_REDIS_URL
from testing.servers import start_server

PIN_SECONDS = 2


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must install it (.ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    """(cluster, [instance a, instance b]): each instance 2 workers x 4 threads, writing through
    PgBouncer to the primary and reading from the replica."""
    if reason := pg_cluster.missing():
        _skip_or_fail(reason)
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError:
        _skip_or_fail(f"no Redis at {TEST_REDIS_URL}")
    base = {"SECRET_KEY": settings.SECRET_KEY, "DEBUG": "false", "REDIS_URL": TEST_REDIS_URL}
    # The replica applies each write 0.5 s late: a read of it right after a write would miss it.
    with pg_cluster.cluster(base, apply_delay_ms=500) as cluster:
        env = {
            **base,
            "DATABASE_URL": cluster.bouncer_url,
            "DATABASE_TRANSACTION_POOLING": "true",
            "DATABASE_REPLICA_URLS": cluster.replica_url,
            "REPLICA_PIN_SECONDS": str(PIN_SECONDS),
            "REPLICA_MAX_LAG_SECONDS": str(PIN_SECONDS),
            "SIGNUP_RATE": "1000/minute",
            # Searches back to back through PgBouncer: their time's budget would hold them to a
            # quarter of the time (api/read_budget.py), which is not what these tests are about.
            "EXPENSIVE_READ_SHARE": "100",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "4",
        }
        log_dir = tmp_path_factory.mktemp("replica-instances")
        servers = []
        try:
            servers.extend(start_server(env, log_dir, workers=2) for _ in range(2))
            yield cluster, servers
        finally:
            for server in servers:
                server.send_sigterm()
            for server in servers:
                server.terminate(timeout=10)


def signup_and_login(server, email: str) -> tuple[int, str]:
    signup = server.request("POST", "/users/", json_body={"email": email, "password": "password123"})
    assert signup.status == 201, signup.body
    login = server.login(email)
    assert login.status == 200, login.body
    return signup.json()["id"], login.json()["access_token"]


def reader(servers, email: str) -> str:
    """A user whose pin (from signing up) has ended: their reads may go to the replica."""
    _, token = signup_and_login(servers[0], email)
    time.sleep(PIN_SECONDS + 0.3)
    return token


def test_a_users_writes_are_visible_to_them_on_the_next_request_through_either_instance(replicated):
    cluster, servers = replicated
    user_id, token = signup_and_login(servers[1], "writer@example.com")
    me = servers[0].request("GET", "/users/me", token=token)
    assert (me.status, me.json()["id"]) == (200, user_id)

    for number in range(6):
        writer, other = servers[number % 2], servers[(number + 1) % 2]
        created = writer.request(
            "POST", "/posts/", json_body={"title": f"p{number}", "content": "c"}, token=token
        )
        assert created.status == 201, created.body
        post_id = created.json()["id"]
        for server in (other, writer):
            one = server.request("GET", f"/posts/{post_id}", token=token)
            assert one.status == 200, one.body
            assert one.json()["Post"]["title"] == f"p{number}"
            newest = server.request("GET", "/posts/?limit=1", token=token)
            assert [item["Post"]["id"] for item in newest.json()] == [post_id]

        vote = other.request("POST", "/vote/", json_body={"post_id": post_id, "dir": 1}, token=token)
        assert vote.status == 201, vote.body
        counted = writer.request("GET", f"/posts/{post_id}", token=token)
        assert counted.json()["votes"] == 1

    stored = cluster.query(
        cluster.primary_port, "SELECT count(*) FROM posts_post WHERE owner_id = %s", (user_id,)
    )
    assert stored == [(6,)]


def test_a_deactivated_account_is_refused_at_once_though_the_replica_lags(replicated):
    cluster, servers = replicated
    token = reader(servers, "revoked@example.com")
    assert servers[0].request("GET", "/posts/", token=token).status == 200
    # A commit the replica has applied just now: it counts as current (well within the lag allowed).
    cluster.query(cluster.primary_port, "UPDATE accounts_user SET last_login = now() RETURNING id")
    time.sleep(0.7)
    cluster.query(
        cluster.primary_port,
        "UPDATE accounts_user SET is_active = false WHERE email = %s RETURNING id",
        ("revoked@example.com",),
    )
    # The replica still shows the account active for another 0.5 s; authentication asks the primary.
    for server in servers:
        refused = server.request("GET", "/posts/", token=token)
        assert (refused.status, refused.json()) == (401, {"detail": "Could not validate credentials"})


def test_reads_land_on_the_replica_writes_on_the_primary_and_pgbouncer_keeps_its_pool_size(replicated):
    cluster, servers = replicated
    token = reader(servers, "reader@example.com")
    on_replica, on_primary = (
        cluster.post_reads(cluster.replica_port),
        cluster.post_reads(cluster.primary_port),
    )
    load = ReadLoad(servers, token, count=240, concurrency=12)
    pools, lags = watched(cluster, load)

    assert set(load.statuses) == {200}
    replica_reads = cluster.post_reads(cluster.replica_port) - on_replica
    primary_reads = cluster.post_reads(cluster.primary_port) - on_primary
    # Each list reads posts once or more; a replica skipped for a second (a lag check that saw
    # it behind: it applies 0.5 s late, and more on a loaded machine) sends some to the primary.
    # Without the router none would reach the replica.
    assert replica_reads >= load.count * 0.75, (replica_reads, primary_reads)
    assert primary_reads <= load.count * 0.25, (replica_reads, primary_reads)
    assert max(lags) < PIN_SECONDS, lags
    # 2 instances x 2 workers x 4 threads may hold 16 client connections; PgBouncer opens at
    # most its pool's size of server connections to the primary.
    assert max(p["clients"] for p in pools) > POOL_SIZE, pools
    assert max(p["servers"] for p in pools) <= POOL_SIZE, pools

    created = servers[1].request("POST", "/posts/", json_body={"title": "w", "content": "c"}, token=token)
    assert created.status == 201, created.body
    post_id = created.json()["id"]
    assert cluster.query(cluster.primary_port, "SELECT title FROM posts_post WHERE id = %s", (post_id,)) == [
        ("w",)
    ]


def test_a_replica_lagging_past_the_limit_is_skipped(replicated):
    cluster, servers = replicated
    token = reader(servers, "lagging@example.com")
    cluster.query(cluster.replica_port, "SELECT pg_wal_replay_pause()")
    try:
        # A commit the replica receives but does not apply: it falls behind from now on.
        cluster.query(cluster.primary_port, "UPDATE accounts_user SET last_login = now() RETURNING id")
        time.sleep(PIN_SECONDS + 0.5)  # past REPLICA_MAX_LAG_SECONDS, and past each worker's last check
        on_replica, on_primary = (
            cluster.post_reads(cluster.replica_port),
            cluster.post_reads(cluster.primary_port),
        )
        load = ReadLoad(servers, token, count=40, concurrency=4).run()
        assert set(load.statuses) == {200}
        assert cluster.post_reads(cluster.replica_port) - on_replica == 0
        assert cluster.post_reads(cluster.primary_port) - on_primary >= load.count
    finally:
        cluster.query(cluster.replica_port, "SELECT pg_wal_replay_resume()")


def test_stopping_the_replica_mid_run_gives_no_5xx_and_reads_move_to_the_primary(replicated):
    cluster, servers = replicated
    token = reader(servers, "outage@example.com")
    on_primary = cluster.post_reads(cluster.primary_port)
    load = ReadLoad(servers, token, count=300, concurrency=8)
    runner = threading.Thread(target=load.run)
    runner.start()
    while load.done < 60 and runner.is_alive():
        time.sleep(0.05)
    cluster.stop_replica()
    stopped_at = load.done
    try:
        runner.join()
    finally:
        cluster.start_replica()  # for whatever runs next

    assert stopped_at < load.count
    assert [status for status in load.statuses if status != 200] == []
    assert cluster.post_reads(cluster.primary_port) - on_primary >= load.count - stopped_at - 20


def test_searches_land_on_the_replica_though_each_holds_a_slot_on_the_primary(replicated):
    """A search holds one of its user's reads in progress, a lock in a transaction of the
    primary (api/read_budget.py); the search itself still reads the replica."""
    cluster, servers = replicated
    token = reader(servers, "searcher@example.com")
    on_replica, on_primary = (
        cluster.post_reads(cluster.replica_port),
        cluster.post_reads(cluster.primary_port),
    )
    # One at a time: a user's second search at once is 429.
    load = ReadLoad(servers, token, count=40, concurrency=1, path="/posts/?limit=10&search=post").run()
    assert set(load.statuses) == {200}
    replica_reads = cluster.post_reads(cluster.replica_port) - on_replica
    primary_reads = cluster.post_reads(cluster.primary_port) - on_primary
    assert replica_reads >= load.count * 0.75, (replica_reads, primary_reads)
    assert primary_reads <= load.count * 0.25, (replica_reads, primary_reads)
