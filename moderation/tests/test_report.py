"""POST /posts/{id}/report over real HTTP, against gunicorn with two workers sharing Redis for
the per-user limit. Every answer is checked against the served schema, as the test client's are."""

import json
import os
import threading
import time

import pytest

from accounts.tokens import AccessToken
from moderation import services
from moderation.models import Report, ReportedPost
from testing import schema_check
from testing.databases import TEST_REDIS_URL

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 25  # reports a day per user, on this server


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The module's `server` (testing/plugin.py) counts reports in the tests' Redis (emptied
    first), so both workers share one count."""
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"no Redis at {TEST_REDIS_URL}")
        pytest.skip(f"no Redis at {TEST_REDIS_URL}")
    return {"REDIS_URL": TEST_REDIS_URL, "REPORT_RATE": f"{LIMIT}/day"}


def send(server, user, post_id, body, path: str = "/posts/{}/report"):
    """POST a report as the user; the answer must match the schema."""
    path = path.format(post_id)
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers["Authorization"] = f"Bearer {AccessToken.for_user(user)}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = server.request("POST", path, raw, headers)
    schema_check.check("POST", path, response.status, response.headers.get("Content-Type", ""), response.body)
    return response


def test_a_report_is_received_once(server, user, other_user, make_post):
    post = make_post(title="spammy")
    response = send(server, other_user, post.pk, {"reason": "spam", "note": "a shop link"})
    assert (response.status, response.json()) == (201, {"message": "report received"})
    report = Report.objects.get()
    assert (report.post_id, report.reporter_id, report.reason, report.note, report.resolved_at) == (
        post.pk,
        other_user.pk,
        "spam",
        "a shop link",
        None,
    )
    assert ReportedPost.objects.get(post=post).open_reports == 1

    again = send(server, other_user, post.pk, {"reason": "abuse"}, path="/posts/{}/report/")
    assert (again.status, again.json()) == (409, {"detail": f"post {post.pk} already reported"})
    assert Report.objects.count() == 1
    # Another user's report counts too; the note is optional.
    assert send(server, user, post.pk, {"reason": "off-topic"}).status == 201
    assert ReportedPost.objects.get(post=post).open_reports == 2


def test_a_post_the_caller_cannot_see_is_404(server, user, other_user, make_post):
    draft = make_post(title="draft", published=False)
    hidden = make_post(title="hidden")
    services.hide(moderator=user, posts=[hidden], reason="test")
    for post_id in (draft.pk, hidden.pk, 999_999):
        response = send(server, other_user, post_id, {"reason": "spam"})
        assert (response.status, response.json()) == (
            404,
            {"detail": f"post with id: {post_id} does not exist"},
        )
    assert send(server, user, hidden.pk, {"reason": "spam"}).status == 404  # its owner too
    assert send(server, user, draft.pk, {"reason": "other"}).status == 201  # own draft: visible
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "reason"]),
        ({"reason": "boring"}, ["body", "reason"]),
        ({"reason": "spam", "note": "x" * 1001}, ["body", "note"]),
        ({"reason": "spam", "note": 5}, ["body", "note"]),
        (b"{not json", ["body"]),
    ],
    ids=["missing", "unknown-reason", "long-note", "number-note", "not-json"],
)
def test_a_bad_body_is_422_and_records_nothing(server, other_user, make_post, body, loc):
    post = make_post()
    response = send(server, other_user, post.pk, body)
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == loc
    assert not Report.objects.exists()


def test_a_note_of_1000_characters_is_kept(server, other_user, make_post):
    post = make_post()
    assert send(server, other_user, post.pk, {"reason": "other", "note": "é" * 1000}).status == 201
    assert Report.objects.get().note == "é" * 1000


def test_no_token_is_401_and_a_bad_id_is_422(server, other_user):
    response = send(server, None, 1, {"reason": "spam"})
    assert (response.status, response.json()) == (401, {"detail": "Not authenticated"})
    assert response.headers["WWW-Authenticate"] == "Bearer"
    response = send(server, other_user, "abc", {"reason": "spam"})
    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["path", "id"]


def test_twenty_concurrent_reports_by_one_user_give_one_201(server, other_user, make_post):
    post = make_post()
    barrier = threading.Barrier(20)
    statuses = []

    def report() -> None:
        barrier.wait()
        statuses.append(send(server, other_user, post.pk, {"reason": "spam"}).status)

    threads = [threading.Thread(target=report) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 19
    assert Report.objects.filter(post=post).count() == 1
    assert ReportedPost.objects.get(post=post).open_reports == 1


def test_past_the_limit_every_report_of_that_user_is_429(server, user, make_user, make_post):
    left = 86400 - time.time() % 86400  # the daily window ends at midnight UTC
    if left < 60:
        time.sleep(left + 0.1)
    post = make_post()
    reporter = make_user()
    answers = [send(server, reporter, post.pk, {"reason": "spam"}).status for _ in range(LIMIT)]
    assert answers == [201] + [409] * (LIMIT - 1)  # every attempt counts
    response = send(server, reporter, make_post().pk, {"reason": "spam"})
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 86400
    assert response.json()["detail"].startswith("Too many reports.")
    assert Report.objects.filter(reporter=reporter).count() == 1
    # The limit is per user: another user may still report.
    assert send(server, user, post.pk, {"reason": "spam"}).status == 201
