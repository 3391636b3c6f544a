"""What the image has, for tests that run the app as the image does: the Dockerfile's CMD, and a
PYTHONPATH on which only the runtime requirements (requirements.lock) can be imported."""

import importlib.metadata
import json
import re
from pathlib import Path

from testing import REPO


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) pairs, continuation lines joined."""
    instructions, pending = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def image_command() -> list[str]:
    """The image's CMD (exec form), exactly as the Dockerfile writes it."""
    commands = [json.loads(args) for keyword, args in dockerfile_instructions() if keyword == "CMD"]
    return commands[-1]


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name = re.split(r"[\[=<>~! ]", line)[0]
            names.add(re.sub(r"[-_.]+", "-", name).lower())
    return names


def development_only_modules() -> set[str]:
    """Top-level modules of the packages only the development lock installs, which the image
    lacks (a development requirement that a runtime package needs, such as requests for the
    OTLP exporter, is in the image)."""
    dev_only = _requirement_names(REPO / "requirements-dev.lock") - _requirement_names(
        REPO / "requirements.lock"
    )
    return {
        module
        for module, dists in importlib.metadata.packages_distributions().items()
        if any(re.sub(r"[-_.]+", "-", dist).lower() in dev_only for dist in dists)
    }


_SITECUSTOMIZE = """\
import sys

BLOCKED = {blocked!r}


class DevelopmentRequirementsAbsent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (a development requirement; not in the image)")
        return None


sys.meta_path.insert(0, DevelopmentRequirementsAbsent())
"""


def runtime_only_pythonpath(directory: Path) -> str:
    """A directory whose sitecustomize.py makes the development requirements unimportable, so
    that processes started with it on PYTHONPATH have only what the image installs."""
    directory.mkdir(exist_ok=True)
    (directory / "sitecustomize.py").write_text(
        _SITECUSTOMIZE.format(blocked=sorted(development_only_modules()))
    )
    return str(directory)
