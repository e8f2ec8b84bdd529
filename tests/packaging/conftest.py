"""Fixtures for the packaging tests: the distributions built once per session, read from the wheels."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import Wheel, load_module, read_wheel


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every distribution's wheel and sdist, built as ``make dist`` builds them."""
    out = tmp_path_factory.mktemp("dist")
    load_module("scripts/build_dists.py").build(out)
    return out


@pytest.fixture(scope="session")
def wheels(dist_dir: Path) -> dict[str, Wheel]:
    return {wheel.name: wheel for wheel in map(read_wheel, sorted(dist_dir.glob("*.whl")))}
