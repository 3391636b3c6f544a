"""Importing the settings has no side effects: it starts no database or other process, writes
no file (no key in .local/), connects nowhere and never reads the command line (sys.argv).
Each case imports them in a fresh interpreter, outside make, with a working directory of its own
(no .env), watched by an audit hook."""

import json
import os
import secrets
import subprocess
import sys
import textwrap

import pytest

from testing import REPO

# Runs in the fresh interpreter: sys.argv refuses to be read, the audit hook records every file
# opened for writing, every process started and every connection, then the settings load.
IMPORT_SETTINGS = textwrap.dedent(
    """
    import json, os, sys

    sys.path.insert(0, {repo!r})
    effects = []
    WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
    STARTS = ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork", "os.system", "os.spawn")

    def audit(event, args):
        if event == "open":
            mode, flags = args[1], args[2]
            if (isinstance(mode, str) and set(mode) & set("wax+")) or (isinstance(flags, int) and flags & WRITING):
                effects.append(f"writes {{args[0]}}")
        elif event in STARTS:
            effects.append(f"starts {{args[0]}}")
        elif event == "socket.connect":
            effects.append(f"connects to {{args[1]}}")

    class Unreadable(list):
        def refuse(self, *args):
            raise AssertionError("sys.argv was read")

        __getitem__ = __iter__ = __len__ = __contains__ = __eq__ = refuse

    sys.argv = Unreadable(["manage.py", "collectstatic"])
    sys.addaudithook(audit)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    from django.conf import settings

    try:
        loaded = {{"storage": settings.STORAGES["staticfiles"]["BACKEND"], "root": str(settings.STATIC_ROOT)}}
    except Exception as exc:
        loaded = {{"error": f"{{type(exc).__name__}}: {{exc}}"}}
    print(json.dumps({{"effects": effects, **loaded}}))
    """
).format(repo=str(REPO))

UNSET = ("DATABASE_URL", "DATABASE_HOSTNAME", "SECRET_KEY", "SECRET_KEY_FILE", "DEBUG")
UNSET += ("STATIC_MANIFEST", "STATIC_ROOT", "DJANGO_SETTINGS_MODULE", "DATABASE_REPLICA_URLS")


def import_settings(tmp_path, **env: str) -> dict:
    environ = {name: value for name, value in os.environ.items() if name not in UNSET}
    environ.update(PYTHONDONTWRITEBYTECODE="1", **env)
    result = subprocess.run(  # noqa: S603 (our own interpreter and snippet)
        [sys.executable, "-c", IMPORT_SETTINGS], cwd=tmp_path, env=environ,
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_without_a_database_they_refuse_in_one_line_and_start_nothing(tmp_path):
    loaded = import_settings(tmp_path)
    assert loaded["effects"] == []
    assert loaded["error"].startswith("ConfigurationError: DATABASE_URL is not set: ")
    assert "devdb.embedded" in loaded["error"]
    assert list(tmp_path.iterdir()) == []


def test_debug_without_a_key_writes_no_key_file(tmp_path):
    key_file = REPO / ".local" / "secret_key"
    before = key_file.stat().st_mtime_ns if key_file.exists() else None
    loaded = import_settings(tmp_path, DEBUG="true", DATABASE_URL="postgres://app@db.example.com/social")
    assert loaded["effects"] == []
    assert loaded["error"].startswith("ConfigurationError: SECRET_KEY is not set: ")
    assert (key_file.stat().st_mtime_ns if key_file.exists() else None) == before


@pytest.mark.parametrize(
    ("flag", "storage", "root"),
    [
        ("", "django.contrib.staticfiles.storage.StaticFilesStorage", "None"),
        ("false", "django.contrib.staticfiles.storage.StaticFilesStorage", "None"),
        ("true", "whitenoise.storage.CompressedManifestStaticFilesStorage", str(REPO / "staticfiles")),
    ],
)
def test_the_static_storage_follows_static_manifest_alone(tmp_path, flag, storage, root):
    # sys.argv says collectstatic: it is not read. Nor is any manifest file looked for.
    env = {"DATABASE_URL": "postgres://app@db.example.com/social", "SECRET_KEY": secrets.token_urlsafe(50)}
    loaded = import_settings(tmp_path, STATIC_MANIFEST=flag, **env)
    assert loaded == {"effects": [], "storage": storage, "root": root}


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("EXPENSIVE_READS_IN_FLIGHT", "1000", None),
        ("EXPENSIVE_READS_IN_FLIGHT_TOTAL", "1000", None),
        # 65,536 slots of one user would share a lock key with the server's cap (api/read_budget.py).
        ("EXPENSIVE_READS_IN_FLIGHT", "65536", "from 1 to 1000"),
        ("EXPENSIVE_READS_IN_FLIGHT", "1001", "from 1 to 1000"),
        ("EXPENSIVE_READS_IN_FLIGHT_TOTAL", "1001", "from 1 to 1000"),
        ("EXPENSIVE_READS_IN_FLIGHT", "0", "from 1 to 1000"),
    ],
)
def test_the_reads_in_progress_are_bounded(tmp_path, name, value, error):
    env = {"DATABASE_URL": "postgres://app@db.example.com/social", "SECRET_KEY": secrets.token_urlsafe(50)}
    loaded = import_settings(tmp_path, **{name: value}, **env)
    if error is None:
        assert "error" not in loaded
    else:
        assert loaded["error"] == f"ConfigurationError: {name}={value!r} is not a whole number {error}."


@pytest.mark.parametrize(
    ("name", "largest"),
    [
        # PostgreSQL's statement_timeout is an int4 of milliseconds: one more refuses every connection.
        ("DATABASE_STATEMENT_TIMEOUT", 2_147_483),
        ("EXPENSIVE_READ_TIMEOUT", 2_147_483),
        # Deadlines this far ahead stay before year 9999 (datetime) and timestamptz's end.
        ("ACCESS_TOKEN_EXPIRE_MINUTES", 5_256_000),
        ("WEBHOOK_RETRY_FIRST", 315_360_000),
        ("WEBHOOK_RETRY_MAX_DELAY", 315_360_000),
        ("WEBHOOK_RETRY_FOR", 315_360_000),
        ("MAIL_RETRY_FIRST", 86_400),
    ],
)
def test_a_number_that_would_fail_while_serving_is_refused_at_start(tmp_path, name, largest):
    env = {"DATABASE_URL": "postgres://app@db.example.com/social", "SECRET_KEY": secrets.token_urlsafe(50)}
    assert "error" not in import_settings(tmp_path, **{name: str(largest)}, **env)
    loaded = import_settings(tmp_path, **{name: str(largest + 1)}, **env)
    assert loaded["error"].startswith(
        f"ConfigurationError: {name}='{largest + 1}' is not a whole number from "
    )
    assert loaded["error"].endswith(f" to {largest}.")
