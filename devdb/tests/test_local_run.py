"""`make run` serves in a terminal: it ends with the terminal, and leaves the embedded database's
list of users clean after an unclean exit (gunicorn.conf.py's GUNICORN_FOREGROUND,
devdb/embedded.py). Its commands run through `python -m devdb.embedded`, which hands
over the embedded database and stops it when the command ends, however it ends."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devdb.embedded import HANDLES, PGDATA, prune_dead_users
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


def start_like_make(command: list[str], log: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """A stand-in for make: a process of its own session that starts ``command`` (output to
    ``log``), then waits until killed outright. Returns it and the command's pid."""
    launcher = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen({command!r}, stdout=open({str(log)!r}, 'wb'), stderr=subprocess.STDOUT)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    make = subprocess.Popen(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", launcher], cwd=REPO, env=env, stdout=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    assert make.stdout is not None
    return make, int(make.stdout.readline())


def test_the_server_stops_when_the_command_that_started_it_is_killed(tmp_path):
    log = tmp_path / "gunicorn.log"
    make, gunicorn_pid = start_like_make(image_command(), log, foreground_env())
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


def embedded_env(**extra: str) -> dict[str, str]:
    """make run's environment with no database configured, so the embedded one is handed over."""
    return {**foreground_env(), "DATABASE_URL": "", "DATABASE_HOSTNAME": "", **extra}


def with_embedded_db(command: list[str]) -> list[str]:
    return [sys.executable, "-m", "devdb.embedded", *command]


def server_running() -> bool:
    return (PGDATA / "postmaster.pid").exists()


def test_the_embedded_database_is_handed_over_and_stopped_with_the_command():
    shared = bool(prune_dead_users(PGDATA / HANDLES))  # this test run's own users, if any
    show = "import os; print(os.environ['DATABASE_URL'], os.environ['SECRET_KEY_FILE']); raise SystemExit(3)"
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        with_embedded_db([sys.executable, "-c", show]), cwd=REPO, env=embedded_env(SECRET_KEY=""),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr  # the command's own exit status
    url, key_file = result.stdout.split()
    assert url.startswith("postgres://postgres@%2F") and url.endswith("/postgres")
    assert Path(key_file) == REPO / ".local" / "secret_key"
    assert Path(key_file).stat().st_mode & 0o077 == 0
    # Stopped when its last user ends; still serving the others (this run) otherwise.
    assert server_running() == shared


def test_a_configured_database_is_left_alone_and_debug_gets_the_local_key():
    show = "import os; print(os.environ['DATABASE_URL'], os.environ.get('SECRET_KEY_FILE'))"
    env = {**foreground_env(), "DATABASE_URL": "postgres://app@db.example.com/social", "SECRET_KEY": ""}
    for debug, key_file in (("false", "None"), ("true", str(REPO / ".local" / "secret_key"))):
        result = subprocess.run(  # noqa: S603 (our own interpreter)
            with_embedded_db([sys.executable, "-c", show]), cwd=REPO, env={**env, "DEBUG": debug},
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert result.stdout.split() == ["postgres://app@db.example.com/social", key_file]


@pytest.mark.parametrize("stop", ["ctrl-c", "closed terminal"])
def test_make_run_stops_on_ctrl_c_or_a_closed_terminal_and_the_database_with_it(tmp_path, stop):
    shared = bool(prune_dead_users(PGDATA / HANDLES))
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (the image's own command)
            with_embedded_db(image_command()), cwd=REPO, env=embedded_env(), stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(log)
        if stop == "ctrl-c":  # the terminal sends SIGINT to every process of the foreground job
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGHUP)
        assert process.wait(60) == 0, log.read_text()
        assert "Shutting down" in log.read_text()
        assert "Traceback" not in log.read_text()
        assert server_running() == shared
    finally:
        kill_leftovers(process.pid)


def test_make_run_killed_outright_stops_the_server_and_the_database(tmp_path):
    shared = bool(prune_dead_users(PGDATA / HANDLES))
    log = tmp_path / "gunicorn.log"
    make, handing_over = start_like_make(with_embedded_db(image_command()), log, embedded_env())
    try:
        wait_ready(log)
        make.kill()
        make.wait(10)
        assert gone(handing_over, timeout=60), log.read_text()
        assert "Shutting down" in log.read_text()
        assert server_running() == shared
    finally:
        kill_leftovers(make.pid)


def test_make_manage_runs_a_command_on_the_embedded_database():
    shared = bool(prune_dead_users(PGDATA / HANDLES))
    result = subprocess.run(
        ["make", "--no-print-directory", "manage", "ARGS=showmigrations posts"],  # noqa: S607 (make on PATH)
        cwd=REPO, env=embedded_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "0005_hidden_guard_keyed_on_posts" in result.stdout
    assert server_running() == shared


def test_manage_py_without_make_names_the_way_to_the_embedded_database():
    result = subprocess.run(
        [sys.executable, "manage.py", "showmigrations", "posts"],
        cwd=REPO, env=embedded_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "DATABASE_URL is not set" in result.stderr
    assert "make manage" in result.stderr
