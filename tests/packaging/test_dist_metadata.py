"""The built wheels carry publication-ready metadata, one version, and every plugin's extra."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .support import ROOT, Wheel, load_module, read_wheel

build_dists = load_module("scripts/build_dists.py")


def _projects() -> dict[str, dict]:
    """Name -> [project] table of every distribution folder found in the checkout."""
    return {data["project"]["name"]: data["project"] for data in (
        tomllib.loads((folder / "pyproject.toml").read_text()) for folder in build_dists.distribution_dirs())}


def _version() -> str:
    text = (ROOT / "core/imagegate/_version.py").read_text()
    match = re.search(r'__version__ = "([^"]+)"', text)
    assert match
    return match.group(1)


def test_every_distribution_folder_is_built_as_wheel_and_sdist(dist_dir: Path, wheels: dict[str, Wheel]) -> None:
    names = set(_projects())
    assert {"imagegate", "imagegate-mcp", "imagegate-http", "imagegate-observability"} <= names
    assert set(wheels) == names
    sdists = {p.name for p in dist_dir.glob("*.tar.gz")}
    assert sdists == {f"{name.replace('-', '_')}-{_version()}.tar.gz" for name in names}


def test_one_version_everywhere(wheels: dict[str, Wheel]) -> None:
    assert {wheel.metadata["Version"] for wheel in wheels.values()} == {_version()}


@pytest.mark.parametrize("field", ["License-Expression", "Requires-Python", "Summary", "Project-URL", "Classifier"])
def test_publication_fields_present(wheels: dict[str, Wheel], field: str) -> None:
    missing = [name for name, wheel in wheels.items() if not wheel.metadata.get_all(field)]
    assert not missing, f"{field} missing in {missing}"
    assert {w.metadata["License-Expression"] for w in wheels.values()} == {"Apache-2.0"}


def test_long_descriptions_are_written_for_users(wheels: dict[str, Wheel]) -> None:
    for name, wheel in wheels.items():
        body = wheel.metadata.get_payload()
        assert wheel.metadata["Description-Content-Type"] == "text/markdown", name
        assert body.startswith(f"# {name}\n"), name
        for bad in ("../", "/work/", "make ", "pytest", ".venv/"):
            assert bad not in body, f"{name}: long description contains {bad!r}"
        links = re.findall(r"\]\(([^)]+)\)", body)
        assert all(link.startswith("https://") for link in links), f"{name}: relative link in {links}"


def test_each_plugin_declares_its_entry_point(wheels: dict[str, Wheel]) -> None:
    for name, project in _projects().items():
        if name == "imagegate":
            continue
        declared = project["entry-points"]["imagegate"]
        for short, target in declared.items():
            assert f"{short} = {target}" in wheels[name].entry_points, name
    assert "imagegate = imagegate.cli:main" in wheels["imagegate"].entry_points


def _extras(wheel: Wheel) -> dict[str, set[str]]:
    extras: dict[str, set[str]] = {}
    for requirement in wheel.metadata.get_all("Requires-Dist") or []:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+).*; extra == '([^']+)'", requirement)
        if match:
            extras.setdefault(match.group(2), set()).add(match.group(1))
    return extras


def test_all_and_the_guessable_extras_name_the_sibling_distributions(wheels: dict[str, Wheel]) -> None:
    extras = _extras(wheels["imagegate"])
    plugins = set(wheels) - {"imagegate"}
    assert extras["all"] == plugins
    guessed = {"mcp": "imagegate-mcp", "http": "imagegate-http", "s3": "imagegate-storage-s3",
               "openai": "imagegate-openai", "replicate": "imagegate-replicate",
               "otel": "imagegate-observability", "observability": "imagegate-observability"}
    if "imagegate-gemini" in plugins:
        guessed["gemini"] = "imagegate-gemini"
    for extra, distribution in guessed.items():
        assert extras[extra] == {distribution}, extra
    for plugin in plugins:  # every plugin, including ones added later, has its own extra
        assert extras[plugin.removeprefix("imagegate-")] == {plugin}
    assert "pytest>=8" in {r.split(";")[0].strip() for r in wheels["imagegate"].metadata.get_all("Requires-Dist")
                           if "extra == 'test'" in r}


def test_a_new_plugin_folder_gets_an_extra_without_editing_anything(tmp_path: Path) -> None:
    hook = load_module("hatch_build.py")
    (tmp_path / "plugins" / "gemini").mkdir(parents=True)
    (tmp_path / "plugins" / "gemini" / "pyproject.toml").write_text('[project]\nname = "imagegate-gemini"\n')
    (tmp_path / "tests" / "dists" / "x").mkdir(parents=True)  # deeper folders are not distributions
    (tmp_path / "tests" / "dists" / "x" / "pyproject.toml").write_text('[project]\nname = "imagegate-x"\n')
    assert hook.bundled_distributions(tmp_path) == {"imagegate-gemini": tmp_path / "plugins" / "gemini"}
    assert hook.extra_names("imagegate-gemini") == ["gemini"]
    assert hook.extra_names("imagegate-storage-s3") == ["storage-s3", "s3"]
    assert build_dists.distribution_dirs(tmp_path) == [tmp_path, tmp_path / "plugins" / "gemini"]


def test_wheels_built_from_the_sdists_keep_version_and_extras(dist_dir: Path, wheels: dict[str, Wheel],
                                                               tmp_path: Path) -> None:
    """An sdist has no sibling folders and no version file outside it: PKG-INFO carries both."""
    sdists = [next(dist_dir.glob("imagegate-*.tar.gz")), next(dist_dir.glob("imagegate_mcp-*.tar.gz"))]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(tmp_path), *map(str, sdists)], check=True, capture_output=True)
    rebuilt = {wheel.name: wheel for wheel in map(read_wheel, tmp_path.glob("*.whl"))}
    assert set(rebuilt) == {"imagegate", "imagegate-mcp"}
    for name, wheel in rebuilt.items():
        assert wheel.metadata["Version"] == wheels[name].metadata["Version"]
        assert sorted(wheel.metadata.get_all("Requires-Dist")) == sorted(wheels[name].metadata.get_all("Requires-Dist"))
