"""The installed entry point is found, every module imports cleanly, and only public names are used."""

from __future__ import annotations

import ast
from pathlib import Path

from imagegate.testing import assert_discovered, assert_modules_import

PACKAGE = Path(__file__).resolve().parents[1]


def test_entry_point_is_discovered() -> None:
    assert_discovered("gemini", "imagegate-gemini", {"register_providers"})


def test_modules_import_cleanly() -> None:
    assert "imagegate_gemini.testing" in assert_modules_import("imagegate_gemini")


def test_only_the_public_plugin_api_is_imported() -> None:
    import imagegate

    for path in [*PACKAGE.joinpath("src").rglob("*.py"), *PACKAGE.joinpath("tests").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("imagegate"):
                assert node.module in ("imagegate", "imagegate.testing") or node.module.startswith(
                    "imagegate_gemini"), f"{path.name} imports {node.module}"
                if node.module == "imagegate":
                    assert {a.name for a in node.names} <= {*imagegate.__all__}, path.name
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("imagegate.") for a in node.names), path.name
