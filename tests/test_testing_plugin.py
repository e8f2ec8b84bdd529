"""The pytest plugin: cheap at start-up, prefixed fixtures, usable without pytest-asyncio."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    script = (
        "import sys, imagegate.testing.plugin\n"
        "heavy = [m for m in ('pydantic', 'aiohttp', 'PIL', 'imagegate._gateway', 'imagegate._models') if m in sys.modules]\n"
        "print(heavy)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_a_project_without_pytest_asyncio_can_run_pytest(pytester: pytest.Pytester) -> None:
    blocker = pytester.mkdir("blocked")
    (blocker / "pytest_asyncio.py").write_text("raise ImportError('pytest-asyncio is not installed here')\n")
    pytester.makepyfile(test_sync="""
        def test_settings_fixture_works(imagegate_settings):
            assert imagegate_settings.storage.backend == "local"
            assert imagegate_settings.storage.spool_dir.name == "spool"
    """)
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:cacheprovider", "-q",
                                           f"--rootdir={pytester.path}",
                                           "-o", f"pythonpath={blocker}")
    assert result.parseoutcomes() == {"passed": 1}, result.stdout.str()[-2000:]


def test_fixtures_are_prefixed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_names="def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    text = result.stdout.str()
    section = text.split("fixtures defined from imagegate.testing.plugin")[1].split("fixtures defined from")[0]
    names = {line.split()[0] for line in section.splitlines() if line[:1].isalpha()}
    assert names == {"imagegate_settings", "imagegate_fake_sleep", "imagegate_gateway", "imagegate_make_gateway"}
