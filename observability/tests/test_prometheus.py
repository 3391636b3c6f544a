"""A real Prometheus server (Debian's `prometheus`) scrapes gunicorn with two workers: the
request counter it stores equals the requests sent, however the workers shared them."""

import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from testing.net import free_port
from testing.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-token-for-tests"
SENT = 60


def start_prometheus(directory: Path, target_port: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = directory / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: api\n"
        "    authorization: {credentials: " + TOKEN + "}\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
    )
    process = subprocess.Popen(  # noqa: S603
        [
            shutil.which("prometheus") or "/usr/bin/prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "prometheus.log").open("wb"),
    )
    return process, port


def query(port: int, expression: str) -> float | None:
    answer = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": expression}, timeout=5)
    result = answer.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


@pytest.mark.skipif(
    not shutil.which("prometheus"), reason="needs Debian's prometheus (apt-get install prometheus)"
)
def test_prometheus_counts_every_request_across_two_workers():
    env = {"METRICS_TOKEN": TOKEN, "GUNICORN_THREADS": "1"}
    with gunicorn(env, workers=2) as server, tempfile.TemporaryDirectory(prefix="prometheus-") as tmp:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda _: server.request("GET", "/health/live").status, range(SENT)))
        assert statuses == [200] * SENT
        assert len(server.worker_pids("/health/live")) == 2  # both workers answered some

        prometheus, port = start_prometheus(Path(tmp), server.port)
        try:
            expression = 'sum(http_requests_total{route="/health/live",method="GET",status="200"})'
            deadline = time.monotonic() + 60
            counted = None
            while time.monotonic() < deadline and counted != SENT:
                time.sleep(0.5)
                try:
                    counted = query(port, expression)
                except requests.RequestException:
                    continue  # not listening yet
            assert counted == SENT, (Path(tmp) / "prometheus.log").read_text()[-2000:]
            assert query(port, 'up{job="api"}') == 1
        finally:
            prometheus.terminate()
            prometheus.wait(10)
