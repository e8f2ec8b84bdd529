"""Build the wheel and sdist of every imagegate distribution into ``dist/`` (``make dist``).

The distributions are found, not listed: the root project and every folder ``*/`` or
``plugins/*/`` with a ``pyproject.toml``. Builds run with the hatchling of this interpreter (no
isolated build environment, so no download), one distribution after the other.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def distribution_dirs(root: Path = ROOT) -> list[Path]:
    """The root project first, then every bundled plugin folder, sorted."""
    found = sorted(p.parent for p in [*root.glob("*/pyproject.toml"), *root.glob("plugins/*/pyproject.toml")])
    return [root, *found]


def build(out: Path, root: Path = ROOT) -> list[Path]:
    """Build every distribution into ``out`` (emptied first); return the files built."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for folder in distribution_dirs(root):
        done = subprocess.run([sys.executable, "-m", "hatchling", "build", "-d", str(out)], cwd=folder,
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"building {folder} failed:\n{done.stdout}{done.stderr}")
    return sorted(out.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (emptied first)")
    args = parser.parse_args()
    for path in build(args.out.resolve()):
        print(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)


if __name__ == "__main__":
    main()
