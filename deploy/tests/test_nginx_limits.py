"""deploy/nginx.conf under a real nginx in front of a real gunicorn: one hostile address (127.0.0.2)
holding hundreds of slow-body connections and flooding requests cannot take the proxy from a
normal one (127.0.0.1), and gets 429s in the API's shape itself."""

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from testing import REPO
from testing.net import free_port
from testing.servers import Server, gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE, NORMAL = "127.0.0.2", "127.0.0.1"
# Fewer sockets than the image's nginx has (1024 per worker), so that the test fills it quickly.
WORKER_CONNECTIONS = 256


def nginx_config(site: str, prefix: Path, port: int, upstream_port: int) -> Path:
    """A whole nginx.conf around deploy/nginx.conf, as the nginx image's http block includes it,
    listening on 127.0.0.1:`port` and proxying to gunicorn on `upstream_port`."""
    site = site.replace("server web:8000;", f"server 127.0.0.1:{upstream_port};")
    site = re.sub(r"listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;", site)
    (prefix / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers write temp files under prefix
    config = prefix / "nginx.conf"
    config.write_text(
        f"{user}worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
        f"events {{ worker_connections {WORKER_CONNECTIONS}; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n"
        f"  proxy_temp_path {prefix}/proxy;\n  include {prefix}/site.conf;\n}}\n"
    )
    return config


@contextlib.contextmanager
def nginx(server: Server, tmp_path: Path, site: str):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.skip("no nginx on this machine (.ci/run installs it)")
    port = free_port()
    config = nginx_config(site, tmp_path, port, server.port)
    process = subprocess.Popen(  # noqa: S603
        [binary, "-c", str(config), "-p", str(tmp_path), "-g", "daemon off;"], stderr=subprocess.PIPE
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def connect_from(address: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(5)
    sock.bind((address, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def get_from(address: str, port: int, path: str = "/health") -> tuple[int, bytes]:
    """GET over a new connection from `address`; (status, body), or (0, b"") with no answer."""
    try:
        with connect_from(address, port) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError:
        return 0, b""
    if not answer:
        return 0, b""
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_one_hostile_address_cannot_take_the_proxy_from_another(tmp_path):
    site = (REPO / "deploy" / "nginx.conf").read_text()
    with gunicorn({"NUM_PROXIES": "1"}, workers=1) as server, nginx(server, tmp_path, site) as port:
        assert get_from(NORMAL, port)[0] == 200
        held = []
        try:
            # Slow bodies: headers sent whole, then a little of a body that never ends.
            for _ in range(WORKER_CONNECTIONS + 64):
                try:
                    sock = connect_from(HOSTILE, port)
                    sock.sendall(
                        b"POST /posts/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b'Content-Length: 100000\r\n\r\n{"title": '
                    )
                    held.append(sock)
                except OSError:
                    break
            time.sleep(2)  # refused connections linger a second (deploy/nginx.conf), then are closed
            # The normal address is served while the hostile one holds what it could.
            assert [get_from(NORMAL, port)[0] for _ in range(10)] == [200] * 10
            # The hostile address past its caps: 429 in the API's shape, with Retry-After.
            status, body = get_from(HOSTILE, port)
            assert (status, body) == (429, b'{"detail": "Too Many Requests"}')
        finally:
            for sock in held:
                sock.close()
        # A flood of requests from one address is cut to its rate; the other is untouched.
        statuses = [get_from(HOSTILE, port)[0] for _ in range(200)]
        assert 429 in statuses
        assert get_from(NORMAL, port)[0] == 200


def test_a_request_too_long_to_read_is_answered_in_the_api_shape_through_the_proxy(tmp_path):
    # Past nginx's large_client_header_buffers (8 KB) nginx answers; under it, past 4,094 bytes
    # of request line, gunicorn does (config/gunicorn_worker.py). Either way: JSON {"detail"}.
    site = (REPO / "deploy" / "nginx.conf").read_text()
    with gunicorn({"NUM_PROXIES": "1"}, workers=1) as server, nginx(server, tmp_path, site) as port:
        cases = {
            "GET /posts/?cursor=" + "x" * 6000: 414,  # gunicorn's limit
            "GET /posts/?cursor=" + "x" * 10000: 414,  # nginx's
        }
        for request_line, status in cases.items():
            assert_answer_in_shape(port, f"{request_line} HTTP/1.1\r\nHost: 127.0.0.1", status)
        assert_answer_in_shape(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + "y" * 10000, 431)
        # Malformed requests nginx refuses itself, never passing them on.
        assert_answer_in_shape(port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: example.com", 400)
        assert_answer_in_shape(port, "GET /health HTTP/1.1 extra\r\nHost: 127.0.0.1", 400)
        assert_answer_in_shape(port, "GET /health HTTP/1.1", 400)  # no Host
        assert_answer_in_shape(port, "GET /health HTTP/3.0\r\nHost: 127.0.0.1", 505)
        # The app's own error answers pass through as they are.
        assert_answer_in_shape(port, "GET /posts/ HTTP/1.1\r\nHost: 127.0.0.1", 401)
        assert get_from(NORMAL, port)[0] == 200


def assert_answer_in_shape(port: int, head: str, status: int) -> None:
    """`head` sent as a request (with Connection: close) is answered `status`, JSON {"detail"}."""
    with connect_from(NORMAL, port) as sock:
        sock.sendall(head.encode() + b"\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    answer_head, _, body = answer.partition(b"\r\n\r\n")
    assert int(answer_head.split()[1]) == status, answer_head
    assert b"content-type: application/json" in answer_head.lower(), answer_head
    assert list(json.loads(body)) == ["detail"], body
