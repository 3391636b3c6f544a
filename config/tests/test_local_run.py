"""`make run` serves in a terminal: it ends with the terminal, and leaves the embedded database's
list of users clean after an unclean exit (gunicorn.conf.py's GUNICORN_FOREGROUND,
config/embedded_db.py)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.embedded_db import prune_dead_users
from testing import REPO
from testing.databases import database_env
from testing.image import image_command
from testing.net import free_port
from testing.servers import kill_leftovers

pytestmark = pytest.mark.django_db


def gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def foreground_env() -> dict[str, str]:
    return {
        **os.environ,
        **database_env(),
        "GUNICORN_FOREGROUND": "true",
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
        "WEB_CONCURRENCY": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def wait_ready(log: Path) -> None:
    deadline = time.monotonic() + 30
    while "Booting worker" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # when_ready runs right after the first worker is forked


def test_a_closed_terminal_stops_the_server_instead_of_reloading_it(tmp_path):
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (the image's own command)
            image_command(), cwd=REPO, env=foreground_env(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(log)
        process.send_signal(signal.SIGHUP)
        assert process.wait(30) == 0, log.read_text()
        assert "Handling signal: term" in log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        kill_leftovers(process.pid)


def test_the_server_stops_when_the_command_that_started_it_is_killed(tmp_path):
    log = tmp_path / "gunicorn.log"
    # A stand-in for make: starts gunicorn, says its pid, then waits until killed outright.
    launcher = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen({image_command()!r}, stdout=open({str(log)!r}, 'wb'), stderr=subprocess.STDOUT)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    make = subprocess.Popen(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", launcher], cwd=REPO, env=foreground_env(), stdout=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    gunicorn_pid = int(make.stdout.readline())
    try:
        wait_ready(log)
        make.kill()
        make.wait(10)
        assert gone(gunicorn_pid), log.read_text()
        assert "Shutting down" in log.read_text()
    finally:
        kill_leftovers(make.pid)


def test_dead_processes_are_pruned_from_the_embedded_servers_users(tmp_path):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    handles = tmp_path / "handles.json"
    handles.write_text(json.dumps([finished.pid, os.getpid()]))
    assert prune_dead_users(handles) == [os.getpid()]
    assert json.loads(handles.read_text()) == [os.getpid()]
    assert prune_dead_users(tmp_path / "missing.json") == []
