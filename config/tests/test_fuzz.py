"""Schemathesis against the served /openapi.json over real HTTP, with every check.

Set FUZZ_SEED to explore other inputs; the default seed keeps CI reproducible.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from config.tests.servers import database_env, gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 100
HERE = Path(__file__).resolve().parent


def test_schemathesis_finds_nothing(tmp_path):
    env = {
        **database_env(connection.settings_dict),
        # Rate limits would turn the fuzzer's many failed logins into 429s.
        "LOGIN_FAILURE_RATE": "100000/minute",
        "SIGNUP_RATE": "100000/minute",
    }
    with gunicorn(env) as server:
        signup = json.dumps({"email": "fuzzer@example.com", "password": "fuzzer-password-1"})
        status, _, _ = server.request("POST", "/users/", signup, {"Content-Type": "application/json"})
        assert status == 201
        status, _, body = server.request(
            "POST",
            "/login",
            "username=fuzzer%40example.com&password=fuzzer-password-1",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 200
        token = json.loads(body)["access_token"]
        result = subprocess.run(  # noqa: S603 (our own executable and arguments)
            [
                str(Path(sys.executable).parent / "schemathesis"),
                f"--config-file={HERE / 'schemathesis.toml'}",
                "run",
                f"{server.url}/openapi.json",
                "--checks=all",
                f"--max-examples={EXAMPLES_PER_OPERATION}",
                f"--seed={os.environ.get('FUZZ_SEED', '20261127')}",
                "--workers=2",
                "--request-timeout=30",
                f"--header=Authorization: Bearer {token}",
            ],
            cwd=tmp_path,  # schemathesis keeps its example database in the working directory
            env={**os.environ, "SCHEMATHESIS_HOOKS": str(HERE / "fuzz_hooks.py")},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        server_log = server.log()
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "11 selected / 11 total" in result.stdout or "selected" in result.stdout
    assert '"level": "ERROR"' not in server_log, server_log[-5000:]
