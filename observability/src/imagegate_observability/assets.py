"""The Grafana dashboard and Prometheus alert rules shipped inside this package, and writing them
out (``imagegate observability export DIR``).

They live under ``assets/`` in the package (so they are in the wheel) with the layout they are
exported with: ``dashboards/imagegate.json``, ``alerts/imagegate.rules.yml`` and its
``promtool test rules`` file ``alerts/imagegate.rules.test.yml``, which names the rules file
relative to itself.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["ASSETS", "asset", "export_assets"]

ASSETS: tuple[str, ...] = (
    "dashboards/imagegate.json",
    "alerts/imagegate.rules.yml",
    "alerts/imagegate.rules.test.yml",
)
"""Each shipped file, relative to the package's ``assets`` folder and to the export folder."""


def asset(name: str) -> Traversable:
    """The installed file ``name`` (one of :data:`ASSETS`)."""
    return files("imagegate_observability").joinpath("assets", *name.split("/"))


def export_assets(folder: Path, *, force: bool = False) -> list[Path]:
    """Write every asset under ``folder`` byte for byte, atomically; return the paths written.

    Without ``force`` nothing is written when any of them exists (``InvalidRequest`` naming them).
    """
    from imagegate import InvalidRequest
    from imagegate.files import atomic_write

    targets = [(name, folder / name) for name in ASSETS]
    existing = [str(path) for _, path in targets if path.exists()]
    if existing and not force:
        msg = f"{', '.join(existing)} exist already; pass --force to overwrite"
        raise InvalidRequest(msg, param="force")
    for name, path in targets:
        try:
            atomic_write(path, asset(name).read_bytes(), overwrite=force)
        except FileExistsError:
            msg = f"{path} appeared meanwhile; pass --force to overwrite"
            raise InvalidRequest(msg, param="force") from None
    return [path for _, path in targets]
