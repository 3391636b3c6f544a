"""docker-compose.yml run for real with podman-compose, with no .env, on the image this run
built (see containers.py for the stand-in base images). podman 4.3 ignores `depends_on`
conditions and schedules no health checks, so the services are started in the compose file's
order here, each once the one before is healthy or has exited 0, as Docker Compose would."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest

from deploy.tests import containers
from deploy.tests.containers import exit_code, healthy, ok, podman, unique, wait_until
from testing import REPO
from testing.net import Response, free_port, http_request
from testing.schema_check import check

pytestmark = pytest.mark.container

# The compose file's default key before it made one of its own (published in the repository).
OLD_DEFAULT_KEY = "local-trial-only-insecure-key-set-SECRET_KEY-in-.env"


@dataclass
class Project:
    name: str
    port: int
    env_file: Path
    image: str
    started: dict[str, str] = field(default_factory=dict)  # service -> container

    def compose(self, *args: str) -> subprocess.CompletedProcess:
        """podman-compose with only what an operator without a .env has: PATH and HOME, plus
        the image this run built and a free port to publish on."""
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "API_IMAGE": self.image,
            "WEB_PUBLISH": f"127.0.0.1:{self.port}",
        }
        command = [str(Path(sys.executable).parent / "podman-compose"), "--env-file", str(self.env_file)]
        return subprocess.run(  # noqa: S603 (podman-compose with the test's own arguments)
            [*command, "-p", self.name, "-f", str(REPO / "docker-compose.yml"), *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def up(self, service: str) -> str:
        """Start one service (without its dependencies); its container's name."""
        result = self.compose("up", "-d", "--no-deps", "--no-build", service)
        assert result.returncode == 0, result.stdout + result.stderr
        names = ok(
            "ps", "-a", "--format", "{{.Names}}",
            "--filter", f"label=io.podman.compose.project={self.name}",
            "--filter", f"label=io.podman.compose.service={service}",
        ).split()  # fmt: skip
        assert len(names) == 1, names
        self.started[service] = names[0]
        return names[0]

    def call(self, method: str, path: str, **options) -> Response:
        """A request to the published port, its answer checked against the served schema. A
        minute to answer: a fresh worker on a loaded machine may take a while (a signup hashes)."""
        response = http_request(self.port, method, path, **{"timeout": 60, **options})
        content_type = response.headers.get("content-type", "")
        check(method, path.split("?")[0], response.status, content_type, response.body)
        return response

    def remove(self) -> None:
        """Down with the volumes; then anything of the project's that is left, by its label."""
        self.compose("down", "--volumes", "--timeout", "0")
        label = f"label=io.podman.compose.project={self.name}"
        for kind in ("container", "volume"):
            leftovers = ok(kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter", label)
            if leftovers:
                podman(kind, "rm", "--force", *leftovers.split())
        podman("network", "rm", "--force", f"{self.name}_default")


@pytest.fixture(scope="module")
def project(image, tmp_path_factory) -> Iterator[Project]:
    """The compose project brought up service by service, as `docker compose up` orders it."""
    project = Project(
        unique("sapi"), free_port(), containers.empty_env_file(tmp_path_factory.mktemp("compose")), image.tag
    )
    try:
        for service in ("db", "redis"):
            name = project.up(service)
            wait_until(lambda name=name: healthy(name), 60, f"{service} healthy")
        for service in ("secret-key", "migrate"):
            name = project.up(service)
            assert exit_code(name) == 0, containers.logs(name)
        web = project.up("web")
        wait_until(lambda: healthy(web), 60, "web healthy")
        project.up("worker")
        proxy = project.up("proxy")
        started = time.monotonic()
        wait_until(lambda: containers.status_of(project.port, "/health") == 200, 60, "proxy serving")
        print(f"proxy serving after {time.monotonic() - started:.1f} s", containers.logs(proxy))
        yield project
    finally:
        project.remove()


def env_of(container: str) -> dict[str, str]:
    """The container's environment, as compose handed it over."""
    pairs = json.loads(ok("inspect", "--format", "{{json .Config.Env}}", container))
    return dict(pair.split("=", 1) for pair in pairs)


def test_compose_with_no_env_file_serves_through_the_proxy(project):
    started = project.started
    assert "made a new signing key" in containers.logs(started["secret-key"])
    assert "Applying posts.0001_initial... OK" in containers.logs(started["migrate"])
    web = env_of(started["web"])
    assert (web["SECRET_KEY"], web["WEB_CONCURRENCY"], web["NUM_PROXIES"]) == ("", "0", "1")
    assert ok("inspect", "--format", "{{.RestartCount}}", started["web"]) == "0"
    assert "Booting worker" in containers.logs(started["web"])
    # Only the proxy is published.
    assert ok("port", started["web"]) == ""
    assert ok("port", started["proxy"]).endswith(f"127.0.0.1:{project.port}")

    email = "ann@example.com"
    assert (
        project.call("POST", "/users/", json_body={"email": email, "password": "password123"}).status == 201
    )
    login = project.call("POST", "/login", form={"username": email, "password": "password123"})
    assert login.status == 200, login.body
    token = login.json()["access_token"]
    created = project.call("POST", "/posts/", json_body={"title": "Hi", "content": "x"}, token=token)
    assert created.status == 201, created.body
    assert project.call("GET", "/users/me", token=token).json()["email"] == email

    # The worker service sends the reset mail; with no EMAIL_HOST it goes to the worker's log,
    # without its body (the live token) since DEBUG is off.
    asked = project.call("POST", "/password-reset", json_body={"email": email})
    assert asked.status == 202, asked.body
    wait_until(lambda: "mail not sent" in containers.logs(started["worker"]), 60, "the reset mail in the log")
    logged = containers.logs(started["worker"])
    assert "body withheld" in logged and email in logged
    assert "token:" not in logged + containers.logs(started["web"])

    # Signed with the key made on first start, not a published one; a second start keeps it.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, OLD_DEFAULT_KEY, algorithms=["HS256"])
    ok("start", started["secret-key"])
    assert exit_code(started["secret-key"]) == 0
    assert "kept the signing key" in containers.logs(started["secret-key"])


CLIENT = """
import json, sys, urllib.error, urllib.parse, urllib.request

def login(headers):
    body = urllib.parse.urlencode({"username": "nobody@example.com", "password": "wrong-password"}).encode()
    request = urllib.request.Request("http://proxy/login", data=body, headers={"Host": "localhost", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, None
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")

statuses = []
for _ in range(int(sys.argv[1])):
    status, retry_after = login({})
    statuses.append(status)
    if status == 429:
        break
forged = login({"X-Forwarded-For": "198.51.100.7"})[0] if statuses[-1] == 429 else None
print(json.dumps({"statuses": statuses, "retry_after": retry_after, "forged": forged}))
"""


def test_rate_limits_count_each_client_apart_through_the_proxy(project, image):
    network = f"{project.name}_default"

    def client(attempts: int) -> dict:
        """Failed logins from a container of its own: an address of its own on the network."""
        return json.loads(
            ok("run", "--rm", "--network", network, image.tag, "python", "-c", CLIENT, str(attempts))
        )

    # LOGIN_FAILURE_RATE's default, 10 a minute; a window may end once within the run.
    first = client(21)
    assert first["statuses"][-1] == 429, first
    assert set(first["statuses"][:-1]) == {403} and 10 <= len(first["statuses"]) - 1 <= 20, first
    if int(first["retry_after"]) > 2:  # the same window: a forged X-Forwarded-For changes nothing
        assert first["forged"] == 429, first
    second = client(1)
    assert second["statuses"] == [403], second
    # The counts are in the compose file's Redis, shared by every worker.
    keys = ok(
        "exec", project.started["redis"], "redis-cli", "--scan", "--pattern", "*ratelimit:login-failure*"
    )
    assert len(keys.split()) >= 2, keys


def test_stalled_clients_leave_health_answering(project):
    # 24 half-sent requests: under the proxy's cap of 32 requests in progress per address (a
    # 33rd is a 429 there: deploy/tests/test_nginx_limits.py), more than web's threads.
    stalled = containers.stall(project.port, 24)
    try:
        for _ in range(5):
            assert http_request(project.port, "GET", "/health", timeout=5).status == 200
    finally:
        for sock in stalled:
            sock.close()


def test_body_over_the_app_limit_is_refused_by_the_proxy_in_the_api_shape(project):
    too_large = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'", "content": "x"}'
    refused = project.call("POST", "/posts/", body=too_large, headers={"Content-Type": "application/json"})
    assert refused.status == 413
    assert refused.json() == {"detail": "Request body too large"}
    assert refused.headers["content-type"] == "application/json"


def test_proxy_answers_in_the_api_shape_while_web_is_down(project):
    # Last in this module: it stops web.
    ok("stop", "--time", "10", project.started["web"])
    down = http_request(project.port, "GET", "/health", timeout=15)
    assert (down.status, down.json()) == (503, {"detail": "Service Unavailable"})
    assert down.headers["content-type"] == "application/json"
