"""An Idempotency-Key whose first request ended without an answer to replay (its database
connection lost mid-request, its worker killed) is free again on the next retry: the retry
creates the post, once. Real gunicorn, real PostgreSQL behind the outage proxy."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from accounts.tokens import AccessToken
from posts.models import Post
from testing.databases import database_env
from testing.db_proxy import DatabaseProxy
from testing.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"title": "once", "content": "c"}


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def post_in_background(server, token: str, key: str) -> list:
    """POST /posts/ with the key on a thread; its answer (or the error) lands in the list."""
    answers: list = []

    def send() -> None:
        try:
            answers.append(
                server.request(
                    "POST", "/posts/", json_body=BODY, token=token, headers={"Idempotency-Key": key}
                )
            )
        except OSError as exc:
            answers.append(exc)

    threading.Thread(target=send, daemon=True).start()
    return answers


def wait_until_waiting_on_lock(answers: list) -> None:
    """Until a server's INSERT of a post (a statement of its own or a WITH's) waits on the
    test's table lock (pg_stat_activity)."""
    for _ in range(200):
        assert not answers, answers
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction sees one snapshot
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%%INSERT INTO %%posts_post%%'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type, state, query FROM pg_stat_activity")
        raise AssertionError(f"the request never reached its INSERT: {cursor.fetchall()}")


def retry_creates_one_post(server, token: str, key: str) -> None:
    answer = server.request("POST", "/posts/", json_body=BODY, token=token, headers={"Idempotency-Key": key})
    assert answer.status == 201, answer
    again = server.request("POST", "/posts/", json_body=BODY, token=token, headers={"Idempotency-Key": key})
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert json.loads(again.body)["id"] == json.loads(answer.body)["id"]
    assert Post.objects.filter(title="once").count() == 1


def test_key_of_a_request_whose_database_went_away_is_free_on_retry(make_user):
    user = make_user("alice@example.com")
    token = str(AccessToken.for_user(user))
    proxy = DatabaseProxy(connection.settings_dict["HOST"], connection.settings_dict["PORT"])
    proxy.start()
    env = {**database_env(), "DATABASE_HOSTNAME": "127.0.0.1", "DATABASE_PORT": str(proxy.port)}
    env["DATABASE_STATEMENT_TIMEOUT"] = "30"  # the INSERT waits on the test's lock meanwhile
    try:
        with gunicorn(env, workers=1) as server:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE posts_post IN SHARE MODE")  # the INSERT waits
                answers = post_in_background(server, token, "restart-1")
                wait_until_waiting_on_lock(answers)
                proxy.stop()  # the database restarts under the request: 503, key not released
                for _ in range(100):
                    if answers:
                        break
                    time.sleep(0.05)
            assert answers and answers[0].status == 503, answers
            proxy.start()
            retry_creates_one_post(server, token, "restart-1")
    finally:
        proxy.stop()


def test_key_of_a_request_whose_worker_was_killed_is_free_on_retry(make_user):
    user = make_user("bob@example.com")
    token = str(AccessToken.for_user(user))
    with gunicorn({"DATABASE_STATEMENT_TIMEOUT": "30"}, workers=1) as server:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE posts_post IN SHARE MODE")
            answers = post_in_background(server, token, "killed-1")
            wait_until_waiting_on_lock(answers)
            for worker in children_of(server.process.pid):
                os.kill(worker, signal.SIGKILL)
        server.wait_until_serving(workers=2)  # the master started a new worker
        retry_creates_one_post(server, token, "killed-1")
