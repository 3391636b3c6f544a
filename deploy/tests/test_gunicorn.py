"""The image's command, run outside Docker: gunicorn with the committed gunicorn.conf.py on
the test database, used over real HTTP the way a client of the original API uses it."""

import json
import os
import subprocess
import sys

import pytest
import yaml

from accounts.models import User
from posts.models import Post
from testing import REPO
from votes.models import Vote

pytestmark = pytest.mark.django_db(transaction=True)


def test_signup_login_post_vote_list_over_http(gunicorn):
    server = gunicorn()

    signup = server.request(
        "POST", "/users/", json_body={"email": "Ann@Example.com", "password": "password123"}
    )
    assert signup.status == 201, signup.body
    assert signup.json()["email"] == "ann@example.com"
    assert "password" not in signup.json()

    login = server.login("ann@example.com")
    assert login.status == 200, login.body
    assert login.json()["token_type"] == "bearer"
    token = login.json()["access_token"]

    created = server.request("POST", "/posts/", json_body={"title": "Hello", "content": "First"}, token=token)
    assert created.status == 201, created.body
    post_id = created.json()["id"]
    assert created.json()["owner"]["email"] == "ann@example.com"

    vote = server.request("POST", "/vote/", json_body={"post_id": post_id, "dir": 1}, token=token)
    assert (vote.status, vote.json()) == (201, {"message": "successfully added vote"})

    listed = server.request("GET", "/posts/?limit=5&search=hel", token=token)
    assert listed.status == 200
    assert [(item["Post"]["id"], item["votes"]) for item in listed.json()] == [(post_id, 1)]

    docs = server.request("GET", "/docs")
    assert docs.status == 200
    assert b"swagger" in docs.body.lower()

    user = User.objects.get(email="ann@example.com")
    assert Post.objects.get(pk=post_id).owner == user
    assert Vote.objects.filter(user=user, post_id=post_id).count() == 1
    # The access log goes to stdout, one JSON line per request in the app's shape, with the
    # time it took and the request id the client was given.
    server.terminate()
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    voted = [line for line in access if '"POST /vote/ HTTP/1.1" 201' in line["message"]]
    assert len(voted) == 1 and voted[0]["message"].split()[-3].endswith("ms")
    assert voted[0]["request_id"] == vote.headers["X-Request-ID"]
    assert set(voted[0]) == {"time", "level", "logger", "request_id", "message"}


def test_unknown_token_and_bad_input_get_contract_errors_not_500(gunicorn):
    server = gunicorn()
    assert server.request("GET", "/posts/", token="not-a-token").status == 401
    bad = server.request("POST", "/users/", json_body={"email": "x", "password": 5})
    assert bad.status == 422
    assert isinstance(bad.json()["detail"], list)
    assert server.request("GET", "/nowhere").json() == {"detail": "Not Found"}


def manage(server_env: dict[str, str], *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**os.environ, **server_env, **extra_env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_migrate_command_and_first_staff_user(gunicorn, server_env):
    # The compose file's one-shot migrate service, on an up-to-date database: nothing to do.
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    command = compose["services"]["migrate"]["command"]
    assert command[:2] == ["python", "manage.py"]
    migrated = manage(server_env, *command[2:])
    assert migrated.returncode == 0, migrated.stderr
    assert "No migrations to apply" in migrated.stdout

    # docs/deploying.md's way to create the first staff user without a prompt.
    created = manage(
        server_env,
        "createsuperuser",
        "--noinput",
        "--email",
        "Admin@Example.com",
        DJANGO_SUPERUSER_PASSWORD="a-long-admin-password",
    )
    assert created.returncode == 0, created.stderr
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser

    server = gunicorn()
    login = server.login("admin@example.com", "a-long-admin-password")
    assert login.status == 200, login.body
    assert server.request("GET", "/admin/login/").status == 200
