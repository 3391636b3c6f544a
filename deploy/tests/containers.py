"""Podman for the container tests: the image built from the Dockerfile, unchanged, and run.

This kind of machine reaches no container registry, so the base images the Dockerfile and the
compose file name (python, postgres, redis, nginx) are local stand-ins built from Debian's
packages by `.ci/container-stand-ins.sh` (run it as root first; `.ci/run` does). A
pass says the Dockerfile and the compose file work; not that the official images behave
identically. The tests say so in the summary at the end of the run (`report`).

The container tests run once per CI run: `CONTAINER_TESTS=0` skips them (the second suite pass
of `.ci/run`). Without podman or the stand-ins they are skipped, except in CI (`CI` set), where
that is a failure.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing import REPO
from testing.net import http_request

STAND_INS = ("python:3.13-slim-trixie", "postgres:16", "redis:7-alpine", "nginx:stable")
STAND_IN_SCRIPT = ".ci/container-stand-ins.sh"
# The compose file pins images by version; the stand-in script tags them by its own names.
PINNED_AS = {"nginx:1.30": "nginx:stable"}
# Lines for the end of the run: what the container tests ran on, and the image's figures.
report: list[str] = []


def require_podman() -> None:
    """Skip the calling test (fail it in CI) unless podman and every stand-in image are here."""
    if os.environ.get("CONTAINER_TESTS") == "0":
        pytest.skip(
            "CONTAINER_TESTS=0: container tests switched off (.ci/run runs them in its first suite pass only)"
        )
    missing = ""
    if shutil.which("podman") is None:
        missing = "podman is not installed"
    elif os.geteuid() != 0:
        missing = "the container tests need root (rootful podman)"
    else:
        absent = [
            name for name in STAND_INS if podman("image", "exists", f"docker.io/library/{name}").returncode
        ]
        if absent:
            missing = f"no base image {', '.join(absent)}"
        for pinned, stand_in in PINNED_AS.items():
            if not missing and podman("image", "exists", f"docker.io/library/{pinned}").returncode:
                ok("tag", f"docker.io/library/{stand_in}", f"docker.io/library/{pinned}")
    if missing:
        message = f"{missing}: run {STAND_IN_SCRIPT} as root to get podman and the stand-in images"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def podman(*args: str, timeout: float = 120, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run `podman ARGS`; the result whatever the exit status (callers assert on it)."""
    return subprocess.run(  # noqa: S603 (podman with the test's own arguments)
        ["podman", *args],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    )


def ok(*args: str, timeout: float = 120) -> str:
    """`podman ARGS`, which must succeed; its stdout, stripped."""
    result = podman(*args, timeout=timeout)
    assert result.returncode == 0, f"podman {' '.join(args)}: {result.returncode}\n{result.stderr}"
    return result.stdout.strip()


def unique(prefix: str) -> str:
    """A name no other test run on this machine uses at the same time."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Image:
    """The project's image, built by this run."""

    tag: str
    build_seconds: float
    size_bytes: int

    def inspect(self) -> dict:
        """`podman image inspect`: Config (User, Cmd, ...), Healthcheck, Size and the rest."""
        return json.loads(ok("image", "inspect", self.tag))[0]


def build_image() -> Image:
    """`podman build` of the repository as the stand-in script's header gives it; the CA bundle
    lets pip inside the build reach PyPI through this machine's proxy."""
    tag = f"localhost/{unique('social-api-test')}:latest"
    started = time.monotonic()
    ok(
        "build", "--format", "docker", "--pull=never", "--network=host", "--quiet",
        "-v", "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro",
        "-t", tag, str(REPO),
        timeout=900,
    )  # fmt: skip
    image = Image(tag, time.monotonic() - started, 0)
    image.size_bytes = int(image.inspect()["Size"])
    report.append(
        f"image built from the Dockerfile in {image.build_seconds:.0f} s, {image.size_bytes / 1e6:.0f} MB"
    )
    report.append(f"ran on {ok('--version')}, {stand_in_description()}")
    return image


def stand_in_description() -> str:
    """What the base images are: the official images set PYTHON_VERSION, the stand-ins do not."""
    python = json.loads(ok("image", "inspect", "docker.io/library/python:3.13-slim-trixie"))[0]
    official = any(item.startswith("PYTHON_VERSION=") for item in python["Config"]["Env"] or [])
    ids = ", ".join(
        f"{name} ({ok('image', 'inspect', '--format', '{{.Id}}', f'docker.io/library/{name}')[:12]})"
        for name in STAND_INS
    )
    kind = "official base images" if official else f"LOCAL STAND-INS from Debian packages ({STAND_IN_SCRIPT})"
    return f"{kind}: {ids}"


def remove_image(image: Image) -> None:
    """Untag the run's image (its layers stay in podman's cache for the next build)."""
    podman("rmi", "--force", image.tag)


def wait_until(check, timeout: float, what: str, interval: float = 0.5):
    """Call `check` until it returns something true; its value. AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def status_of(port: int, path: str, timeout: float = 3) -> int | None:
    """The status of GET `path` on the published port; None when nothing answers in time."""
    try:
        return http_request(port, "GET", path, timeout=timeout).status
    except OSError:
        return None


def healthy(container: str) -> bool:
    """The container's HEALTHCHECK command, run now (podman 4.3 schedules none without systemd)."""
    return podman("healthcheck", "run", container, timeout=60).returncode == 0


def exit_code(container: str, timeout: float = 120) -> int:
    """Wait for the container to stop; its exit status."""
    return int(ok("wait", container, timeout=timeout))


def logs(container: str) -> str:
    """The container's output so far, stdout and stderr together."""
    result = podman("logs", container)
    return result.stdout + result.stderr


def stall(port: int, count: int) -> list[socket.socket]:
    """`count` connections that each send half a request (headers and part of a body) and go
    silent, as slow or hostile clients do. The caller closes them."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            b"POST /posts/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"title": "stal'
        )
        sockets.append(sock)
    return sockets


def empty_env_file(directory: Path) -> Path:
    """An empty file for compose's --env-file: the run sees no .env, whatever the clone holds."""
    path = directory / "empty.env"
    path.write_text("")
    return path
