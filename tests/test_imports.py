"""Every core module imports cleanly (no warnings, no side effects), and `import imagegate` is light."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import warnings

import pytest

import imagegate

MODULES = sorted(m.name for m in pkgutil.walk_packages(imagegate.__path__, "imagegate."))


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_without_warnings(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.import_module(name)


def test_public_api_resolves() -> None:
    for name in imagegate.__all__:
        assert getattr(imagegate, name) is not None


def test_cli_start_up_imports_no_heavy_libraries() -> None:
    code = ("import sys; from imagegate.cli._app import build_cli; build_cli(); "
            "print(','.join(m for m in ('asyncio', 'pydantic', 'aiohttp', 'PIL', 'mcp', 'opentelemetry', 'aiobotocore') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"imported at start-up: {done.stdout.strip()}"
