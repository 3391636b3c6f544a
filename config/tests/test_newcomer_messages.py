"""What a newcomer is told instead of being surprised: which database the server uses, a
misspelt name in .env, what the embedded database changes when run as root, a bad
WEB_CONCURRENCY for `make run`, and `manage.py test` running the tests."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from devdb.embedded import root_changes
from environment.variables import misspelt_names
from testing import REPO


def run(command: list[str], cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess:
    # CONFIG_ENV_NAMES_CHECKED: this run's own warnings were given already (environment/variables.py).
    inherited = {name: value for name, value in os.environ.items() if name != "CONFIG_ENV_NAMES_CHECKED"}
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command,
        cwd=cwd,
        env={**inherited, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_misspelt_name_in_dot_env_is_named_with_its_likely_meaning(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DATABSE_URL=postgres://u@h/db\nSECRET_KEYY=x\nMY_OWN_SETTING=1\nDEBUG=true\n")
    assert misspelt_names(dotenv, REPO / ".env.example") == [
        "warning: .env sets DATABSE_URL, which nothing reads: did you mean DATABASE_URL?",
        "warning: .env sets SECRET_KEYY, which nothing reads: did you mean SECRET_KEY?",
    ]
    # Said by the command that would fall back to the embedded database, once.
    shown = run(
        [sys.executable, "-m", "devdb.embedded", "true"], cwd=tmp_path, DATABASE_URL="postgres://x@y/z"
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.count("did you mean DATABASE_URL?") == 1


@pytest.mark.django_db(transaction=True)
def test_the_server_says_which_database_it_uses(server):
    lines = [line for line in server.log().splitlines() if line.startswith("database: ")]
    assert len(lines) == 1, server.log()[:2000]
    embedded = "database: the embedded PostgreSQL in .local/pgdata"
    # The test server gets its database as DATABASE_URL or as the original's DATABASE_* names,
    # by how the suite itself was given one.
    named = re.fullmatch(
        r"database: \S+ on \S+ as \S+ \(from DATABASE_(URL|HOSTNAME/PORT/USERNAME/PASSWORD/NAME)\)",
        lines[0],
    )
    assert lines[0] == embedded or named, lines[0]
    assert "password" not in lines[0].partition(" (from ")[0].lower()  # the names it came from aside


def test_as_root_the_embedded_database_says_what_it_changes(tmp_path):
    closed = tmp_path / "closed"
    (closed / "project").mkdir(parents=True)
    closed.chmod(0o700)
    notice = root_changes(closed / "project" / "pgdata", is_root=True)
    assert notice.startswith("note: running as root, the embedded PostgreSQL ")
    opened = notice.split("lets every user read and enter ")[1].split(" (chmod o+rx)")[0]
    assert str(closed) in opened.split(", ")
    assert root_changes(closed / "project" / "pgdata", is_root=False) is None


def test_make_run_with_an_unusable_web_concurrency_is_one_line():
    result = run(["make", "--no-print-directory", "run"], WEB_CONCURRENCY="many")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert lines == ["error: WEB_CONCURRENCY='many' is not a whole number of at least 0."], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_manage_py_test_runs_the_tests_with_pytest():
    # A database of its own: the inner run creates and drops test_<name>, which must not be ours.
    own = {"DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/manage_py_test"}
    found = run(
        [
            sys.executable,
            "manage.py",
            "test",
            "demo/tests/test_seed.py",
            "-k",
            "bad_arguments",
            "-p",
            "no:randomly",
        ],
        **own,
    )
    assert found.returncode == 0, found.stdout + found.stderr
    assert "manage.py test runs pytest" in found.stdout and "1 passed" in found.stdout
    # No test found is a failure (pytest's 5), not Django's "Ran 0 tests" and 0.
    none = run([sys.executable, "manage.py", "test", "demo/tests/test_seed.py", "-k", "no_such_test"], **own)
    assert none.returncode == 5, none.stdout
