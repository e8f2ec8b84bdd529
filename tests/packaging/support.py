"""Helpers of the packaging tests: the checkout's root, loading a script by path, reading a wheel."""

from __future__ import annotations

import importlib.util
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_module(relative: str) -> ModuleType:
    """A Python file of the checkout that is not in a package (``scripts/build_dists.py``), by path."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Wheel:
    path: Path
    metadata: Message
    entry_points: str

    @property
    def name(self) -> str:
        return str(self.metadata["Name"])


def read_wheel(path: Path) -> Wheel:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        return Wheel(path, Parser().parsestr(archive.read(meta).decode()),
                     archive.read(points[0]).decode() if points else "")
