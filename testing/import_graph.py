"""The import graph between the project's top-level parts, from the source (no import runs).

A part is a top-level folder with Python files (an app or a package such as ``api``). Only code
counts: ``tests/`` folders and ``conftest.py`` files are left out, since tests may reach across
parts to check them. ``python -m testing.import_graph`` prints the graph and its faults; the test
``config/tests/test_import_graph.py`` fails on any fault.

The rules (a newcomer reads the layout from them): no cycle between parts, and only the entry
points (``manage.py``, ``gunicorn.conf.py``, which are not parts) import ``config``, so
``config/`` stays the wiring that names everything else.
"""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from testing import REPO

#: Folders that hold no project code.
SKIPPED = {".venv", ".local", ".git", "node_modules", "docs"}

type Graph = dict[str, set[str]]


def parts(root: Path = REPO) -> list[str]:
    """The names of the top-level folders that hold Python files, sorted."""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and p.name not in SKIPPED and not p.name.startswith(".") and any(p.rglob("*.py"))
    )


def _code_files(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*.py"):
        relative = path.relative_to(folder).parts
        if "tests" in relative or path.name == "conftest.py" or "client_scripts" in relative:
            continue
        yield path


def _imported(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def graph(root: Path = REPO) -> Graph:
    """``{part: {part it imports, ...}}`` for every part, itself left out."""
    names = parts(root)
    edges: Graph = {name: set() for name in names}
    for name in names:
        for path in _code_files(root / name):
            tree = ast.parse(path.read_text(), filename=str(path))
            edges[name].update(m for m in _imported(tree) if m in edges and m != name)
    return edges


def cycles(edges: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one part (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def faults(edges: Graph) -> list[str]:
    """One line per broken rule: each cycle, and each part other than config that imports it."""
    lines = [f"cycle: {' <-> '.join(group)}" for group in cycles(edges)]
    lines += [
        f"{part} imports config" for part in sorted(edges) if part != "config" and "config" in edges[part]
    ]
    return lines


def main() -> int:
    """Print the graph, one part a line, then the faults; exit 1 if there are any."""
    edges = graph()
    for part in sorted(edges):
        print(f"{part} -> {', '.join(sorted(edges[part])) or '(nothing)'}")
    found = faults(edges)
    print("\n".join(found) if found else "no cycle; only config's entry points import config")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
