"""Tests take helpers from ``imagegate.testing`` or plain helper modules, never from a conftest.py
(pytest loads conftest files itself; importing one as a module runs it twice under other names)
nor from another test module (which would collect its tests again, and ties the two together)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_DIRS = [ROOT / "tests", ROOT / "observability" / "tests", *sorted((ROOT / "plugins").glob("*/tests"))]


def imports_of(source: str, wanted: str = "conftest") -> list[int]:
    """The line numbers of the imports in ``source`` of a module whose last name is ``wanted``
    (``conftest``) or, for ``test_``, of a test module of this repository (a relative import, or one
    under ``tests``; ``aiohttp.test_utils`` is not one)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(alias.name for alias in node.names if not node.module)]
            local = node.level > 0 or (node.module or "").startswith("tests")
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            local = any(name.startswith("tests.") for name in names)
        else:
            continue
        if wanted == "test_" and not local:
            continue
        if any(name.split(".")[-1] == wanted or (wanted.endswith("_") and name.split(".")[-1].startswith(wanted))
               for name in names):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_each_spelling() -> None:
    source = ("from .conftest import KEY\nfrom tests.conftest import x\nimport conftest\n"
              "from . import conftest\nfrom .support import KEY\nimport conftest_like\n")
    assert imports_of(source) == [1, 2, 3, 4]


def test_no_test_imports_from_a_conftest() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}" for directory in TEST_DIRS
             for path in sorted(directory.rglob("*.py")) if "dists" not in path.parts
             for line in imports_of(path.read_text())]
    assert found == [], "move these helpers to imagegate.testing or a helper module: " + ", ".join(found)


def test_the_check_sees_test_modules() -> None:
    source = ("from .test_gateway import make\nfrom .pipeline_support import make\nimport tests.test_cli\n"
              "from aiohttp.test_utils import TestServer\n")
    assert imports_of(source, "test_") == [1, 3]


def test_no_test_imports_from_another_test_module() -> None:
    found = [f"{path.relative_to(ROOT)}:{line}" for directory in TEST_DIRS
             for path in sorted(directory.rglob("*.py")) if "dists" not in path.parts
             for line in imports_of(path.read_text(), "test_")]
    assert found == [], "move these helpers to imagegate.testing or a helper module: " + ", ".join(found)
