"""GET /users/me/export: the caller's data, and nothing of anyone else's."""

import json

import pytest

from data_export.views import CHUNK_BYTES, SECTIONS, document
from moderation.models import Report
from posts.models import Post
from testing.assertions import assert_error
from testing.clients import login
from votes.models import Vote

pytestmark = pytest.mark.django_db

KEYS = ["user", "posts", "votes", "comments", "following", "followers", "reports"]


def export(client, path: str = "/users/me/export"):
    response = client.get(path)
    assert response.status_code == 200, response
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    return response, json.loads(b"".join(response.streaming_content))


@pytest.mark.parametrize("path", ["/users/me/export", "/users/me/export/"])
def test_export_holds_the_callers_user_posts_votes_and_reports(
    auth_client, user, other_user, make_post, path
):
    mine = make_post(title="mine", content="hello")
    draft = make_post(title="my draft", content="soon", published=False)
    hidden = make_post(title="hidden by staff", content="oops", hidden=True)
    theirs = make_post(owner=other_user, title="theirs")
    Vote.objects.create(user=user, post=theirs)
    Report.objects.create(reporter=user, post=theirs, reason="spam", note="ads")

    response, body = export(auth_client, path)

    assert list(body) == KEYS
    assert body["user"] == {
        "id": user.pk,
        "email": "owner@example.com",
        "created_at": body["user"]["created_at"],
    }
    assert body["user"]["created_at"].endswith("+00:00")
    assert [(p["id"], p["title"], p["published"], p["hidden"]) for p in body["posts"]] == [
        (mine.pk, "mine", True, False),
        (draft.pk, "my draft", False, False),
        (hidden.pk, "hidden by staff", True, True),
    ]
    assert body["posts"][0]["created_at"] == mine.created_at.isoformat()
    assert [v["post_id"] for v in body["votes"]] == [theirs.pk]
    assert [(r["post_id"], r["reason"], r["note"], r["resolved_at"]) for r in body["reports"]] == [
        (theirs.pk, "spam", "ads", None)
    ]
    assert body["comments"] == body["following"] == body["followers"] == []  # none made
    assert response["Cache-Control"] == "private"
    assert response["Content-Disposition"] == f'attachment; filename="user-{user.pk}-export.json"'


def test_export_never_holds_hashes_tokens_or_others_drafts_and_hidden_posts(
    api_client, user, other_user, make_post
):
    token = login(api_client).json()
    secret_draft = make_post(
        owner=other_user, title="their secret draft", content="private words", published=False
    )
    their_hidden = make_post(owner=other_user, title="their hidden post", content="hidden words", hidden=True)
    Vote.objects.create(user=user, post=secret_draft)
    Report.objects.create(reporter=user, post=their_hidden, reason="abuse")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")

    _, body = export(api_client)

    text = json.dumps(body)
    for leaked in (
        user.password,
        other_user.password,
        token["access_token"],
        token["refresh_token"],
        "private words",
        "their secret draft",
        "hidden words",
        "their hidden post",
        other_user.email,
    ):
        assert leaked not in text
    assert "password" not in text


def test_export_needs_a_token(api_client):
    assert_error(api_client.get("/users/me/export"), 401, "Not authenticated")


def test_export_is_limited_per_user(settings, auth_client, other_client):
    settings.EXPORT_RATE = "2/hour"
    export(auth_client)
    export(auth_client)
    refused = auth_client.get("/users/me/export")
    body = assert_error(refused, 429)
    assert body["detail"].startswith("Too many exports.")
    assert 0 < int(refused["Retry-After"]) <= 3600
    export(other_client)  # another user's count is their own


def test_a_large_account_is_sent_in_chunks(user, make_post):
    for number in range(3 * CHUNK_BYTES // 1000):
        make_post(title=f"post {number}", content="x" * 1000)
    chunks = list(document(user))
    assert len(chunks) >= 3
    assert all(len(chunk) < 2 * CHUNK_BYTES for chunk in chunks)
    assert len(json.loads(b"".join(chunks))["posts"]) == 3 * CHUNK_BYTES // 1000


def test_sections_are_the_contracts_keys():
    assert ["user", *SECTIONS] == KEYS


def test_export_is_in_the_schema(api_client):
    schema = api_client.get("/openapi.json").json()
    operation = schema["paths"]["/users/me/export"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "429"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert list(component["properties"]) == KEYS


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """This module's `server`: one worker, no mail."""
    return {"WEB_CONCURRENCY": "1"}


@pytest.mark.django_db(transaction=True)
def test_export_is_streamed_over_http(server, account):
    for number in range(3 * CHUNK_BYTES // 1000):
        Post.objects.create(owner=account, title=f"post {number}", content="x" * 1000)
    token = server.login(account.email).json()["access_token"]
    response = server.request("GET", "/users/me/export", token=token)
    assert response.status == 200
    # No length known in advance: the body is sent in chunks as it is written.
    assert "Content-Length" not in response.headers
    assert response.headers["Transfer-Encoding"] == "chunked"
    body = response.json()
    assert list(body) == KEYS
    assert len(body["posts"]) == 3 * CHUNK_BYTES // 1000
