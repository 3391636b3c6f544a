"""Schemathesis against the served /openapi.json over real HTTP, with every check.

Set FUZZ_SEED to explore other inputs; the default seed keeps CI reproducible.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testing import REPO

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 100
# Read from the working directory. 412 is a schema-valid request's right answer when its If-Match
# names a version the resource no longer has (every generated ETag is such a one). Per operation:
# a reset token the fuzzer makes up is a 422 by the contract (as is a made-up comment to reply to
# or list the replies of, on /posts/{id}/comments), and each schema-valid request to
# /users/me/password or DELETE /users/me checks a password with the production hasher (about a
# second of CPU), so those get fewer examples. Text never holds NUL: every text field refuses it
# (a 422), which the API's description says once rather than as a pattern on each field.
# `published` is a boolean in the schema, as in the original's, and takes the original's other
# forms too (0, "false", "off", ...: CONTRACT.md §1), which the fuzzer would take for invalid
# data accepted: for the three post writes its negative-data check and its coverage phase (whose
# per-operation check settings schemathesis does not apply) are off; posts/tests,
# api/tests/test_client_forms.py and api/tests/test_hardening.py refuse the rest of each body.
# An id made up for /users/{id}/follow may be the fuzzer's own: a 422 by the contract (one does
# not follow oneself).
# Schema-violating data is rightly refused by schemathesis's default statuses and by 414: a value
# past its maxLength (a cursor, a search) can make the request line longer than gunicorn reads,
# which it answers before the app does (documented on every operation whose URL carries data).
CONFIG = f"""\
generation.max-examples = {EXAMPLES_PER_OPERATION}
generation.allow-x00 = false

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "5xx"]

[[operations]]
include-path = "/password-reset/confirm"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

[[operations]]
include-path = "/posts/{{id}}/comments"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
[[operations]]
include-path-regex = "^/users/me"
generation.max-examples = 15

[[operations]]
include-name-regex = "^(POST|PUT|PATCH) /posts/"
checks.negative_data_rejection.enabled = false
phases.coverage.enabled = false

[[operations]]
include-path-regex = "^/users/[^/]+/follow$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""


def fuzz(server, token: str, directory: Path, *only: str) -> subprocess.CompletedProcess:
    """Schemathesis with every check over the operations `only` selects."""
    (directory / "schemathesis.toml").write_text(CONFIG)
    return subprocess.run(  # noqa: S603 (our own executable and arguments)
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{server.url}/openapi.json",
            *only,
            "--checks=all",
            f"--seed={os.environ.get('FUZZ_SEED', '20261127')}",
            "--workers=2",
            "--request-timeout=30",
            f"--header=Authorization: Bearer {token}",
        ],
        cwd=directory,  # schemathesis keeps its example database in the working directory
        # fuzz_hooks.py: unique Idempotency-Keys and no made-up cursors in schema-valid cases.
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(REPO / "testing" / "fuzz_hooks.py")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The module's `server` (testing/plugin.py): rate limits would turn the fuzzer's many
    failed logins (and reports, posts and votes) into 429s."""
    return {
        "LOGIN_FAILURE_RATE": "100000/minute",
        "SIGNUP_RATE": "100000/minute",
        "REPORT_RATE": "100000/minute",
        "PASSWORD_RESET_RATE": "100000/minute",
        "PASSWORD_RESET_EMAIL_RATE": "100000/minute",
        "POST_RATE": "100000/minute",
        "VOTE_RATE": "100000/minute",
        "EXPORT_RATE": "100000/minute",
        "COMMENT_RATE": "100000/minute",
    }


def test_schemathesis_finds_nothing(server, tmp_path):
    signup = json.dumps({"email": "fuzzer@example.com", "password": "fuzzer-password-1"})
    status, _, _ = server.request("POST", "/users/", signup, {"Content-Type": "application/json"})
    assert status == 201
    status, _, body = server.login("fuzzer@example.com", "fuzzer-password-1")
    assert status == 200
    token = json.loads(body)["access_token"]
    # POST /logout/all ends the fuzzer's session, so it is fuzzed last, on its own.
    result = fuzz(server, token, tmp_path, "--exclude-path=/logout/all")
    last = fuzz(server, token, tmp_path, "--include-path=/logout/all")
    server_log = server.log()
    assert result.returncode == 0, result.stdout[-60000:] + result.stderr[-5000:]
    assert last.returncode == 0, last.stdout[-20000:] + last.stderr[-5000:]
    assert re.search(r"\b1 selected / \d+ total", last.stdout), last.stdout[-2000:]
    assert '"level": "ERROR"' not in server_log, server_log[-5000:]
