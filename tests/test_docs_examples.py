"""The examples in docs/writing-plugins.md run: the provider module and its conformance test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[1] / "docs" / "writing-plugins.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_has_a_provider_and_a_test_example() -> None:
    blocks = _python_blocks()
    assert len(blocks) == 2
    assert "@hookimpl" in blocks[0] and "class TestSolid(ProviderConformance)" in blocks[1]


def test_the_example_provider_passes_the_conformance_suite(pytester: pytest.Pytester) -> None:
    provider, test = _python_blocks()
    pytester.makepyfile(imagegate_solid=provider, test_solid=test)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 4, result.stdout.str()[-3000:]
    assert "failed" not in outcomes and "error" not in outcomes and "errors" not in outcomes
