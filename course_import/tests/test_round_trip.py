"""The way in and the way out together: a database of the original course API is imported, used
through this API, exported, and the export is served by the original itself (its own code) and
imported again.

The original is served from a checkout of the course's code named by ORIGINAL_APP_DIR (its
package ``app`` and a virtualenv ``.venv`` with its requirements and uvicorn: the same checkout
``make bench ARGS=--original=DIR`` serves, bench/original.py); without it that test is skipped.
"""

import io
import os
from pathlib import Path

import bcrypt
import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg.conninfo import conninfo_to_dict

from accounts.models import User
from bench.original import OriginalServer
from course_import.tests.course_source import course_database, empty_database
from posts.models import Post
from testing.clients import login
from testing.databases import database_url
from testing.net import http_request
from votes.models import Vote

# Real bcrypt: the passwords must log in to the original.
pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.real_hasher]

ORIGINAL_APP_DIR = os.environ.get("ORIGINAL_APP_DIR", "")
# 87 bytes: bcrypt reads the first 72, here as in the original.
LONG_PASSWORD = "correct horse battery staple " * 3
# Who logs in where, and with what: the source's two users (imported) and two who signed up here.
PASSWORDS = {
    "alice@example.com": "pw-alice",
    "bob.smith@example.com": "pw-alice",
    "carol@example.com": "carol-password-1",
    "dave@example.com": LONG_PASSWORD,
}


def quiet(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def use_the_api(api_client) -> None:
    """New users with new passwords, posts, a draft and votes, through this API."""
    for email in ("carol@example.com", "dave@example.com"):
        response = api_client.post("/users/", {"email": email, "password": PASSWORDS[email]}, format="json")
        assert response.status_code == 201, response.content
    for email, posts in (
        ("carol@example.com", [("carol's", True), ("carol's draft", False)]),
        ("alice@example.com", [("alice again", True)]),
    ):
        answer = login(api_client, email, PASSWORDS[email])
        assert answer.status_code == 200, answer.content
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")
        for title, published in posts:
            response = api_client.post(
                "/posts/", {"title": title, "content": "c", "published": published}, format="json"
            )
            assert response.status_code == 201, response.content
        assert api_client.post("/vote/", {"post_id": 3, "dir": 1}, format="json").status_code in (201, 409)
    api_client.credentials()


def rows_here() -> list[list[tuple]]:
    return [
        list(User.objects.order_by("id").values_list("id", "email", "password", "date_joined")),
        list(
            Post.objects.order_by("id").values_list(
                "id", "title", "content", "owner_id", "published", "created_at"
            )
        ),
        list(Vote.objects.order_by("user_id", "post_id").values_list("user_id", "post_id")),
    ]


@pytest.fixture
def exported(api_client):
    """The source imported, used through the API and exported: yields the export's URL and the
    rows that were here."""
    with course_database() as source:
        quiet("import_course_db", source)
    use_the_api(api_client)
    with empty_database() as target:
        quiet("export_course_db", target)
        yield target, rows_here()


def test_importing_the_export_gives_the_same_rows(exported):
    target, before = exported
    for model in (Vote, Post, User):
        model.objects.all().delete()
    quiet("import_course_db", target)
    assert rows_here() == before
    # Every hash is the original's bcrypt, and each checks the user's password.
    users = {email: password for _, email, password, _ in before[0]}
    for email, password in PASSWORDS.items():
        assert bcrypt.checkpw(password.encode()[:72], users[email].removeprefix("bcrypt$").encode())


@pytest.mark.skipif(
    not ORIGINAL_APP_DIR,
    reason="ORIGINAL_APP_DIR does not name a checkout of the original course app (DIR/app, DIR/.venv)",
)
def test_the_original_serves_the_export(exported):
    target, (users, posts, votes) = exported
    url = database_url({**connection.settings_dict, "NAME": conninfo_to_dict(target)["dbname"]})
    original = OriginalServer(Path(ORIGINAL_APP_DIR).resolve(), url, workers=1)
    original.start()
    try:
        port = int(original.url.rsplit(":", 1)[1])
        tokens = {}
        for email, password in PASSWORDS.items():
            answer = http_request(port, "POST", "/login", form={"username": email, "password": password})
            assert answer.status == 200, (email, answer.body)
            tokens[email] = answer.json()["access_token"]
            wrong = http_request(
                port, "POST", "/login", form={"username": email, "password": "wrong-password"}
            )
            assert wrong.status == 403
        # Every post, drafts included (the original lists them all), with its votes.
        listed = http_request(port, "GET", "/posts/?limit=1000", token=tokens["carol@example.com"]).json()
        votes_per_post = {post_id: sum(1 for _, p in votes if p == post_id) for post_id, *_ in posts}
        assert sorted(
            (
                item["Post"]["id"],
                item["Post"]["title"],
                item["Post"]["owner_id"],
                item["Post"]["published"],
                item["votes"],
            )
            for item in listed
        ) == [
            (pid, title, owner, published, votes_per_post[pid])
            for pid, title, _, owner, published, _ in posts
        ]
        # The original's next post takes the id after the highest exported.
        created = http_request(
            port,
            "POST",
            "/posts/",
            json_body={"title": "back home", "content": "c"},
            token=tokens["alice@example.com"],
        )
        assert created.status == 201, created.body
        assert created.json()["id"] == max(pid for pid, *_ in posts) + 1
    finally:
        original.stop()
    with psycopg.connect(target) as db:
        assert db.execute("SELECT count(*), max(id) FROM posts").fetchone() == (
            len(posts) + 1,
            posts[-1][0] + 1,
        )
        assert db.execute("SELECT count(*) FROM users").fetchone() == (len(users),)
