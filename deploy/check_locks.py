"""Check that the lock files match the requirements files: `make lint` runs it.

requirements.txt and requirements-dev.txt name the project's own dependencies, pinned exactly;
requirements.lock and requirements-dev.lock (pip-compile --generate-hashes, `make lock`) pin
every package installed, each with its hashes. A lock is stale when a package named in its
requirements file is missing from it, pinned at another version, or when it still holds a
package no requirements file names any more; and the development lock must install the same
runtime packages as the runtime lock. Exit status 1 with one line per problem.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = (("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock"))
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    """A package name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> dict[str, str]:
    """The exact pins of a requirements file and of the files it includes with ``-r``."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins |= requirements(path.parent / line[3:].strip())
        elif match := _PIN.match(line):
            pins[canonical(match[1])] = match[2]
    return pins


def locked(path: Path) -> tuple[dict[str, str], set[str]]:
    """A lock's pins, and the packages it holds because a requirements file names them
    (pip-compile's ``# via -r requirements...`` comment)."""
    pins: dict[str, str] = {}
    direct: set[str] = set()
    current = None
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            current = canonical(match[1])
            pins[current] = match[2]
        elif current and re.search(r"(via|#)\s+-r requirements", line):
            direct.add(current)
    return pins, direct


def problems(root: Path = ROOT) -> list[str]:
    """One sentence per mismatch of the files in ``root``; empty when the locks match."""
    found = []
    for requirements_name, lock_name in PAIRS:
        wanted = requirements(root / requirements_name)
        lock_path = root / lock_name
        if not lock_path.exists():
            found.append(f"{lock_name} is missing: run make lock")
            continue
        pins, direct = locked(lock_path)
        for name, version in sorted(wanted.items()):
            if pins.get(name) != version:
                found.append(
                    f"{lock_name}: {name} is {pins.get(name, 'missing')}, {requirements_name} says {version}"
                )
        for name in sorted(direct - set(wanted)):
            found.append(f"{lock_name}: {name} is no longer in {requirements_name}")
    if not found:
        runtime, _ = locked(root / "requirements.lock")
        development, _ = locked(root / "requirements-dev.lock")
        for name, version in sorted(runtime.items()):
            if development.get(name) != version:
                found.append(
                    f"requirements-dev.lock: {name} is {development.get(name)}, requirements.lock has {version}"
                )
    return found


if __name__ == "__main__":
    stale = problems()
    for problem in stale:
        print(f"{problem} (run make lock)", file=sys.stderr)
    sys.exit(1 if stale else 0)
