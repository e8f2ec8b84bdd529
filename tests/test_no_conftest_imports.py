"""Tests take helpers from ``imagegate.testing`` or plain helper modules, never from a conftest.py
(pytest loads conftest files itself; importing one as a module runs it twice under other names)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_DIRS = [ROOT / "tests", ROOT / "observability" / "tests", *sorted((ROOT / "plugins").glob("*/tests"))]


def conftest_imports(source: str) -> list[int]:
    """The line numbers of the imports of a conftest module in ``source``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(alias.name for alias in node.names if not node.module)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.split(".")[-1] == "conftest" for name in names):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_each_spelling() -> None:
    source = ("from .conftest import KEY\nfrom tests.conftest import x\nimport conftest\n"
              "from . import conftest\nfrom .support import KEY\nimport conftest_like\n")
    assert conftest_imports(source) == [1, 2, 3, 4]


def test_no_test_imports_from_a_conftest() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}" for directory in TEST_DIRS
             for path in sorted(directory.rglob("*.py")) if "dists" not in path.parts
             for line in conftest_imports(path.read_text())]
    assert found == [], "move these helpers to imagegate.testing or a helper module: " + ", ".join(found)
