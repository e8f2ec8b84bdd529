"""Discovery through really installed distributions; failure isolation; the disable list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DISTS = Path(__file__).resolve().parent / "dists"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the good and the broken test distributions installed into it by pip."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(DISTS / "good"), str(DISTS / "broken")],
        check=True, capture_output=True,
    )
    return target


def imagegate(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(site), **env}
    return subprocess.run(
        [sys.executable, "-c", "from imagegate.cli import main; main()", *args],
        capture_output=True, text=True, env=environment, timeout=60,
    )


def test_installed_plugin_is_discovered_and_broken_one_reported(site: Path) -> None:
    done = imagegate(site, "plugins", "--all", "--json")
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)}
    good = plugins["testplugin"]
    assert (good["distribution"], good["version"], good["hooks"], good["error"]) == (
        "imagegate-testplugin", "1.2.3", ["register_providers", "register_settings"], None)
    broken = plugins["brokenplugin"]
    assert broken["distribution"] == "imagegate-brokenplugin"
    assert "ModuleNotFoundError" in broken["error"] and "imagegate_dependency_that_does_not_exist" in broken["error"]
    assert plugins["placeholder"]["builtin"] is True


def test_models_of_the_installed_plugin_are_listed_despite_the_broken_one(site: Path) -> None:
    done = imagegate(site, "models", "--json")
    assert done.returncode == 0, done.stderr
    ids = {m["id"]: m for m in json.loads(done.stdout)}
    assert ids["test-echo"]["qualified_id"] == "testplugin/echo-1"
    assert "placeholder" in ids


def test_disable_list_switches_plugins_off_builtins_included(site: Path) -> None:
    done = imagegate(site, "plugins", "--all", "--json", IMAGEGATE_DISABLE_PLUGINS="testplugin, placeholder")
    names = {p["name"] for p in json.loads(done.stdout)}
    assert "testplugin" not in names and "placeholder" not in names and "brokenplugin" in names


def test_plain_listing_marks_the_failure(site: Path) -> None:
    done = imagegate(site, "plugins")
    assert "brokenplugin" in done.stdout and "FAILED" in done.stdout
    assert "placeholder" not in done.stdout  # built-ins only with --all


def test_a_new_plugins_settings_section_is_kept_and_checked(site: Path) -> None:
    shown = imagegate(site, "config", "--json", ECHO__GREETING="bonjour")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["echo"] == {"greeting": "bonjour"}
    misspelt = imagegate(site, "models", "--json", ECHO__GRETING="bonjour")
    assert misspelt.returncode == 1
    error = json.loads(misspelt.stdout)["error"]
    assert error["message"] == "configuration ECHO__GRETING: unknown setting; did you mean ECHO__GREETING?"
