"""Traces over OTLP/HTTP to a receiver on loopback, from gunicorn's workers; errors to a fake
Sentry ingest; and neither SDK imported when neither is configured."""

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from observability.tracing import before_send, scrub
from testing import PASSWORD, REPO
from testing.databases import database_env
from testing.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP receiver (POST /v1/traces, protobuf) or a Sentry ingest (POST
    /api/<project>/envelope/) on loopback: keeps the body of each request to `path`."""

    def __init__(self, path: str = "/v1/traces", content_type: str = "application/x-protobuf") -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path == path and self.headers["Content-Type"].startswith(content_type):
                    received.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def spans(self) -> list:
        found = []
        for body in list(self.bodies):
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    found.extend(scope.spans)
        return found


def attributes(span) -> dict:
    return {item.key: item.value.string_value or item.value.int_value for item in span.attributes}


def test_each_request_is_a_trace_with_its_queries_and_request_id():
    receiver = Receiver()
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds: export soon after each request
    }
    try:
        with gunicorn(env, workers=2) as server:
            email = "tracer@example.com"
            assert (
                server.request("POST", "/users/", json_body={"email": email, "password": PASSWORD}).status
                == 201
            )
            login = server.login(email)
            assert login.status == 200, (login.body, server.log()[-3000:])
            token = login.json()["access_token"]
            answer = server.request("GET", "/posts/", token=token)
            assert answer.status == 200
            request_id = answer.headers["X-Request-ID"]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                served = [s for s in receiver.spans() if attributes(s).get("http.request_id") == request_id]
                if served:
                    break
                time.sleep(0.2)
            assert len(served) == 1, [s.name for s in receiver.spans()]
            root = served[0]
            assert root.name == "GET ^posts/?$" or "posts" in root.name
            queries = [
                s
                for s in receiver.spans()
                if s.trace_id == root.trace_id and s.parent_span_id == root.span_id
            ]
            assert queries and all(
                attributes(s).get("db.system") == "postgresql" or "SELECT" in s.name for s in queries
            )
    finally:
        receiver.shutdown()


def test_unset_neither_sdk_is_imported():
    """A worker as gunicorn starts it (post_fork's start, then the app), one request served."""
    code = (
        "import sys\n"
        "from observability.tracing import start\n"
        "start()\n"
        "from config.wsgi import application\n"
        "from django.test import Client\n"
        "assert Client(HTTP_HOST='localhost').get('/posts/').status_code == 401\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('sentry_sdk', 'opentelemetry'))}))\n"
    )
    env = {
        **database_env(),
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "SENTRY_DSN": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    run = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_an_unhandled_error_reaches_sentry_without_the_password_or_the_token():
    ingest = Receiver("/api/1/envelope/", content_type="application/x-sentry-envelope")
    password, token = (
        "correct-horse-battery-staple-42",
        "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl",
    )
    env = {
        "SENTRY_DSN": f"http://public@127.0.0.1:{ingest.server_port}/1",
        # The project's settings with a route that fails quoting its input (config/tests/leak_urls.py).
        "DJANGO_SETTINGS_MODULE": "config.tests.leak_settings",
    }
    try:
        with gunicorn(env, workers=1) as server:
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            body = json.dumps({"email": "a@example.com", "password": password})
            assert server.request("POST", "/leak", body, headers).status == 500
            deadline = time.monotonic() + 20
            while not ingest.bodies and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        ingest.shutdown()
    sent = b"".join(ingest.bodies).decode("utf-8", "replace")
    assert "invalid literal for int() with base 10" in sent  # the error itself arrived
    assert password not in sent
    assert token not in sent and token.split(".")[2] not in sent


def test_sentry_events_are_scrubbed_of_tokens_and_passwords():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl"
    event = {"exception": {"values": [{"value": f"bad token {jwt}"}]}, "extra": {"note": [f"Bearer {jwt}"]}}
    scrubbed = before_send(event, {})
    assert jwt not in json.dumps(scrubbed)
    assert scrubbed["exception"]["values"][0]["value"] == "bad token [redacted]"
    assert scrub({"a": ["x", 1]}, {"x"}) == {"a": ["[redacted]", 1]}
