"""deploy/secret_key.py, the compose file's one-shot that makes the signing key once."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from testing import REPO


def make_key(path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, "deploy/secret_key.py", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_key_is_made_once_and_kept(tmp_path):
    path = tmp_path / "secret_key"
    first = make_key(path)
    assert first.returncode == 0 and "made a new signing key" in first.stdout
    key = path.read_text().strip()
    assert len(key) == 64 and len(set(key)) > 20
    assert path.stat().st_mode & 0o777 == 0o400
    again = make_key(path)
    assert again.returncode == 0 and "kept the signing key" in again.stdout
    assert path.read_text().strip() == key
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary files left


def test_concurrent_starts_agree_on_one_key(tmp_path):
    path = tmp_path / "secret_key"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: make_key(path), range(8)))
    assert all(result.returncode == 0 for result in results)
    assert sum("made a new" in result.stdout for result in results) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_unwritable_directory_fails_loudly(tmp_path):
    failed = make_key(tmp_path / "absent-directory" / "secret_key")
    assert failed.returncode != 0
    assert "No such file or directory" in failed.stderr


def test_an_empty_file_is_replaced(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("")
    assert "made a new signing key" in make_key(path).stdout
    assert len(path.read_text().strip()) == 64
