"""The layout's rules hold: no import cycle between top-level parts, and no part imports config
(testing/import_graph.py reads the source; nothing is imported)."""

from pathlib import Path

from testing.import_graph import faults, graph


def _part(root: Path, name: str, source: str, *, file: str = "code.py") -> None:
    (root / name).mkdir(exist_ok=True)
    (root / name / file).write_text(source)


def test_the_project_has_no_cycle_and_no_part_imports_config():
    assert faults(graph()) == []


def test_a_cycle_and_an_import_of_config_are_found(tmp_path):
    _part(tmp_path, "config", "")
    _part(tmp_path, "posts", "from votes import counter\n")
    _part(tmp_path, "votes", "from posts.models import Post\nfrom config import settings\n")
    assert faults(graph(tmp_path)) == ["cycle: posts <-> votes", "votes imports config"]


def test_imports_in_tests_do_not_count(tmp_path):
    _part(tmp_path, "config", "")
    _part(tmp_path, "posts", "")
    (tmp_path / "posts" / "tests").mkdir()
    _part(tmp_path, "posts", "import config.settings\n", file="tests/test_x.py")
    assert graph(tmp_path) == {"config": set(), "posts": set()}
