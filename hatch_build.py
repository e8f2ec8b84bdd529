"""Build-time metadata for the root ``imagegate`` distribution: one extra per bundled plugin.

Every folder ``plugins/*/`` or ``*/`` with a ``pyproject.toml`` naming an ``imagegate-*``
distribution is a bundled plugin. It gets an extra named after it (``imagegate-storage-s3`` ->
``storage-s3`` and ``s3``), plus any aliases in ``ALIASES``, and ``all`` names them all. A plugin
added to the repository is therefore installable as ``imagegate[<name>]`` without editing this file.
The ``test`` extra is read from ``[tool.imagegate] test-dependencies``. When building from an sdist
(no plugin folders beside it), the extras already recorded in PKG-INFO are kept.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

ALIASES = {"observability": ["otel"]}
"""Extra names users guess for a plugin besides its own short name."""


def bundled_distributions(root: Path) -> dict[str, Path]:
    """Name -> folder of every bundled plugin distribution under ``root``."""
    found: dict[str, Path] = {}
    for pyproject in sorted([*root.glob("*/pyproject.toml"), *root.glob("plugins/*/pyproject.toml")]):
        name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name", "")
        if name.startswith("imagegate-"):
            found[name] = pyproject.parent
    return found


def extra_names(distribution: str) -> list[str]:
    """The extras that install ``distribution``: ``imagegate-storage-s3`` -> storage-s3, s3."""
    short = distribution.removeprefix("imagegate-")
    names = [short, *ALIASES.get(short, [])]
    if short.startswith("storage-"):
        names.append(short.removeprefix("storage-"))
    return names


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        root = Path(self.root)
        plugins = bundled_distributions(root)
        if not plugins:
            return  # building from an sdist: PKG-INFO already carries the extras
        extras: dict[str, list[str]] = {"all": sorted(plugins)}
        for name in plugins:
            for extra in extra_names(name):
                extras[extra] = [name]
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        extras["test"] = pyproject["tool"]["imagegate"]["test-dependencies"]
        metadata["optional-dependencies"] = extras
