"""The dashboard and alert rules ship inside the wheel, and ``imagegate observability export``
writes them out byte for byte, refusing to overwrite without ``--force``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from imagegate_observability.assets import ASSETS, asset

PACKAGE = Path(__file__).resolve().parents[1]
SOURCE = PACKAGE / "src" / "imagegate_observability" / "assets"


def imagegate(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORAGE__", "GATEWAY__", "PROVIDERS__"))}
    return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_the_wheel_contains_every_asset_byte_for_byte(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                          cwd=PACKAGE, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("imagegate_observability-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in ASSETS:
            assert archive.read(f"imagegate_observability/assets/{name}") == (SOURCE / name).read_bytes()


def test_the_installed_package_holds_them() -> None:
    for name in ASSETS:
        assert asset(name).is_file(), name
    assert json.loads(asset("dashboards/imagegate.json").read_text())["panels"]


def test_export_writes_identical_files_and_overwrites_only_with_force(tmp_path: Path) -> None:
    target = tmp_path / "monitoring"
    done = imagegate("observability", "export", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(target / name) for name in ASSETS]
    for name in ASSETS:
        assert (target / name).read_bytes() == asset(name).read_bytes()

    (target / ASSETS[0]).write_text("my edits")
    refused = imagegate("observability", "export", str(target), "--json")
    assert refused.returncode == 1
    error = json.loads(refused.stdout)["error"]
    assert error["code"] == "invalid_request" and error["param"] == "force" and "--force" in error["message"]
    assert (target / ASSETS[0]).read_text() == "my edits"  # nothing written

    forced = imagegate("observability", "export", str(target), "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout) == {"written": [str(target / name) for name in ASSETS]}
    assert (target / ASSETS[0]).read_bytes() == asset(ASSETS[0]).read_bytes()


@pytest.mark.skipif(not __import__("shutil").which("promtool"), reason="promtool is not installed")
def test_the_exported_rule_tests_run_where_they_were_written(tmp_path: Path) -> None:
    assert imagegate("observability", "export", str(tmp_path)).returncode == 0
    done = subprocess.run(["promtool", "test", "rules", "imagegate.rules.test.yml"], cwd=tmp_path / "alerts",
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
