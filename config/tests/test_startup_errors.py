"""A configuration mistake is one line on stderr naming the variable and the fix, and a non-zero
exit, from manage.py and from gunicorn alike (environment/variables.py, config/startup.py)."""

import os
import re
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from testing import REPO, servers
from testing.databases import TEST_REDIS_URL, database_env
from testing.net import free_port

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
KEY = secrets.token_urlsafe(50)


def run(command: list[str], cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command,
        cwd=cwd,
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": KEY, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], **env)


def gunicorn(**env: str) -> subprocess.CompletedProcess:
    env = {"GUNICORN_BIND": f"127.0.0.1:{free_port()}", "WEB_CONCURRENCY": "1", **env}
    return run([GUNICORN, "config.wsgi", "-c", "gunicorn.conf.py"], **env)


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one line a failed start printed (gunicorn's own "Starting gunicorn" may precede it)."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if "[INFO] Starting gunicorn" not in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEBUG", "ture", "DEBUG='ture' is not a boolean: use one of true"),
        ("DEBUG", "enabled", "DEBUG='enabled' is not a boolean"),
        ("SECURE_SSL_REDIRECT", "y", "SECURE_SSL_REDIRECT='y' is not a boolean"),
        ("ADMIN_COOKIES_SECURE", "maybe", "ADMIN_COOKIES_SECURE='maybe' is not a boolean"),
        ("NUM_PROXIES", "one", "NUM_PROXIES='one' is not a whole number of at least 0"),
        ("NUM_PROXIES", "-1", "NUM_PROXIES='-1' is not a whole number"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "30m", "ACCESS_TOKEN_EXPIRE_MINUTES='30m' is not a whole number"),
        ("LOGIN_FAILURE_RATE", "lots", "LOGIN_FAILURE_RATE='lots' is not a rate"),
        ("SIGNUP_RATE", "30 per minute", "SIGNUP_RATE='30 per minute' is not a rate"),
    ],
)
def test_unusable_value_stops_manage_py_with_one_line(name, value, expected):
    assert expected in error_line(manage("check", **{name: value}))


# Every boolean the settings read, found in the source so that one added later is covered too.
SETTINGS_BOOLEANS = sorted(
    set(
        re.findall(
            r"""env_bool\(\s*["']([A-Z][A-Z0-9_]*)["']""", (REPO / "config" / "settings.py").read_text()
        )
    )
)


def test_the_booleans_are_found():
    assert {"DEBUG", "SECURE_SSL_REDIRECT", "STATIC_MANIFEST", "EMAIL_USE_TLS"} <= set(SETTINGS_BOOLEANS)


@pytest.mark.parametrize("name", SETTINGS_BOOLEANS)
def test_every_boolean_setting_refuses_a_value_that_is_not_a_boolean(name):
    # EMAIL_HOST: EMAIL_USE_TLS is read only when mail goes out through SMTP.
    line = error_line(manage("check", EMAIL_HOST="smtp.example.com", **{name: "maybe"}))
    assert f"{name}='maybe' is not a boolean: use one of true" in line


def test_no_database_is_one_line_naming_the_embedded_one_from_manage_py_and_gunicorn():
    for result in (manage("shell", "-c", "pass", DATABASE_URL="", DATABASE_HOSTNAME=""),
                   gunicorn(DATABASE_URL="", DATABASE_HOSTNAME="")):  # fmt: skip
        line = error_line(result)
        assert "DATABASE_URL is not set: set it to a PostgreSQL server" in line
        assert "make run and make test" in line and "python -m devdb.embedded" in line


def test_unusable_value_stops_gunicorn_with_one_line():
    assert "DEBUG='ture' is not a boolean" in error_line(gunicorn(DEBUG="ture", **database_env()))


@pytest.mark.parametrize(
    ("name", "value"),
    # (WEB_CONCURRENCY is gunicorn's own: it checks it before it reads its configuration file.)
    [("GUNICORN_THREADS", "lots"), ("PORT", "lots"), ("PORT", "65536")],
)
def test_unusable_gunicorn_number_is_one_line(name, value):
    bind = {"GUNICORN_BIND": ""} if name == "PORT" else {}
    assert f"{name}={value!r} is not a whole number" in error_line(gunicorn(**{name: value}, **bind))


def test_make_runs_gunicorn_boolean_is_checked_too():
    assert "GUNICORN_FOREGROUND='maybe' is not a boolean" in error_line(gunicorn(GUNICORN_FOREGROUND="maybe"))


def test_missing_secret_key_names_the_variable():
    line = error_line(
        manage("check", SECRET_KEY="", DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres")
    )
    assert "SECRET_KEY is not set" in line


@pytest.mark.parametrize(
    ("key", "named"),
    [
        (
            "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
            "the course's published example key",
        ),
        ("local-trial-only-insecure-key-set-SECRET_KEY-in-.env", "docker-compose.yml's former default key"),
        ("change-me-to-a-long-random-string", "the example key of .env.example"),
    ],
)
def test_a_published_key_is_named_as_such(key, named):
    assert f"SECRET_KEY is {named}, which anyone can read" in error_line(manage("check", SECRET_KEY=key))


def test_database_url_without_a_scheme_names_the_variable():
    line = error_line(manage("check", DATABASE_URL="postgres@127.0.0.1:5432/postgres"))
    assert "DATABASE_URL has no scheme: write it as postgres://" in line


def test_a_database_other_than_postgresql_is_one_line():
    line = error_line(manage("check", DATABASE_URL="mysql://root@127.0.0.1:3306/social"))
    assert "DATABASE_URL names a mysql database: only PostgreSQL is supported" in line


@pytest.mark.django_db
def test_a_database_that_does_not_exist_is_one_line():
    env = {**database_env(), "DATABASE_NAME": "no_such_database"}
    line = error_line(manage("migrate", **env))
    assert 'database "no_such_database" does not exist' in line
    assert "DATABASE_HOSTNAME/PORT/USERNAME/PASSWORD/NAME" in line


@pytest.mark.django_db
def test_a_role_that_does_not_exist_is_one_line_from_gunicorn_too():
    env = {**database_env(), "DATABASE_USERNAME": "no_such_role"}
    for result in (manage("migrate", **env), gunicorn(**env)):
        assert 'role "no_such_role" does not exist' in error_line(result)


def test_nothing_listening_at_the_port_is_one_line():
    url = f"postgres://postgres@127.0.0.1:{free_port()}/postgres"
    line = error_line(manage("migrate", DATABASE_URL=url))
    assert "nothing listens there. Fix: check the host and port in DATABASE_URL" in line


def test_an_unknown_host_is_one_line():
    line = error_line(manage("migrate", DATABASE_URL="postgres://postgres@no-such-host.invalid/postgres"))
    assert "the host name is not known. Fix: check the host name in DATABASE_URL" in line


@pytest.mark.django_db
def test_a_taken_port_is_one_line_naming_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = error_line(gunicorn(GUNICORN_BIND=f"127.0.0.1:{port}", **database_env()))
    assert f"Port {port} on 127.0.0.1 is already in use" in line
    assert f"PORT={port + 1} make run" in line


def test_gunicorn_reads_dot_env_like_the_settings(tmp_path):
    # .env in the working directory, as for manage.py; the process environment leaves them unset.
    (tmp_path / ".env").write_text(
        "GUNICORN_BIND=127.0.0.1:9123\nWEB_CONCURRENCY=3\nGUNICORN_THREADS=2\nGUNICORN_LOG_LEVEL=debug\n"
    )
    names = ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_LOG_LEVEL", "PORT")
    environ = {name: value for name, value in os.environ.items() if name not in names}
    command = [GUNICORN, "--print-config", "-c", str(REPO / "gunicorn.conf.py"), "config.wsgi"]
    result = subprocess.run(  # noqa: S603 (our own gunicorn and configuration)
        command, cwd=tmp_path, env={**environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    config = dict(
        map(str.strip, line.split(" = ", 1)) for line in result.stdout.splitlines() if " = " in line
    )
    values = {name: config[name] for name in ("bind", "workers", "threads", "loglevel")}
    assert values == {"bind": "['127.0.0.1:9123']", "workers": "3", "threads": "2", "loglevel": "debug"}


@pytest.mark.django_db
def test_a_database_that_does_not_answer_yet_is_a_warning_and_gunicorn_serves():
    env = {**database_env(), "DATABASE_HOSTNAME": "127.0.0.1", "DATABASE_PORT": str(free_port())}
    with servers.gunicorn(env, workers=1) as server:
        assert server.request("GET", "/health")[0] == 503
        log = server.log()
    assert "warning: Cannot connect to PostgreSQL at " in log
    assert "nothing listens there" in log
    assert "Serving anyway: 503 until it answers." in log


@pytest.mark.django_db
def test_a_local_run_prints_no_static_files_warnings():
    # Nothing collected: whitenoise serves from the apps' folders without looking for STATIC_ROOT.
    with servers.gunicorn({}, workers=2) as server:
        assert server.request("GET", "/static/admin/css/base.css")[0] == 200
        log = server.log()
    assert "No directory at" not in log
    assert "Traceback" not in log


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"REDIS_URL": ""},
            "DATABASE_REPLICA_URLS needs REDIS_URL: every instance must see which users just wrote",
        ),
        (
            {"REPLICA_MAX_LAG_SECONDS": "10"},
            "REPLICA_MAX_LAG_SECONDS=10 is more than REPLICA_PIN_SECONDS=5: a user could miss their own write",
        ),
        (
            {"DATABASE_REPLICA_URLS": "postgres://postgres@127.0.0.1:5432/postgres,replica:5432"},
            "DATABASE_REPLICA_URLS has no scheme: write it as postgres://",
        ),
        ({"REPLICA_PIN_SECONDS": "0"}, "REPLICA_PIN_SECONDS='0' is not a whole number of at least 1"),
    ],
)
def test_unusable_replica_settings_are_one_line(env, expected):
    replicas = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "DATABASE_REPLICA_URLS": "postgres://postgres@127.0.0.1:5432/postgres",
        "REDIS_URL": TEST_REDIS_URL,
    }
    assert expected in error_line(manage("check", **{**replicas, **env}))
