"""The lock files (make lock) match the requirements files, and the check says when not."""

import shutil

from deploy.check_locks import problems
from testing import REPO

FILES = ("requirements.txt", "requirements-dev.txt", "requirements.lock", "requirements-dev.lock")


def copy_files(tmp_path):
    for name in FILES:
        shutil.copy(REPO / name, tmp_path / name)


def test_the_committed_locks_match_the_requirements():
    assert problems() == []


def test_every_locked_package_has_hashes():
    for name in ("requirements.lock", "requirements-dev.lock"):
        entries = (REPO / name).read_text().split("\n")
        pins = [i for i, line in enumerate(entries) if "==" in line and not line.startswith((" ", "#"))]
        assert pins
        assert all(entries[i].endswith("\\") and "--hash=sha256:" in entries[i + 1] for i in pins), name


def test_a_changed_pin_makes_the_lock_stale(tmp_path):
    copy_files(tmp_path)
    runtime = tmp_path / "requirements.txt"
    runtime.write_text(runtime.read_text().replace("gunicorn==27.0.1", "gunicorn==27.0.0"))
    assert problems(tmp_path)[0] == "requirements.lock: gunicorn is 27.0.1, requirements.txt says 27.0.0"


def test_a_new_or_removed_package_makes_the_lock_stale(tmp_path):
    copy_files(tmp_path)
    development = tmp_path / "requirements-dev.txt"
    development.write_text(development.read_text().replace("aiosmtpd==1.4.6\n", "") + "left-pad==1.0\n")
    assert sorted(problems(tmp_path)) == [
        "requirements-dev.lock: aiosmtpd is no longer in requirements-dev.txt",
        "requirements-dev.lock: left-pad is missing, requirements-dev.txt says 1.0",
    ]
