"""``imagegate observability export DIR``: write the shipped dashboard and alert rules."""

from __future__ import annotations

from pathlib import Path

import click
from imagegate.cli import JSON_OPTION

__all__ = ["observability"]


@click.group()
def observability() -> None:
    """Metrics, traces and logs (imagegate-observability)."""


@observability.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that exist already.")
@JSON_OPTION
def export(folder: Path, force: bool, as_json: bool) -> None:
    """Write the Grafana dashboard and the Prometheus alert rules (with their promtool tests) into
    FOLDER: dashboards/imagegate.json, alerts/imagegate.rules.yml, alerts/imagegate.rules.test.yml."""
    from imagegate.cli import echo, emit_json, fail
    from imagegate import StorageError

    from .assets import export_assets

    try:
        written = export_assets(folder, force=force)  # InvalidRequest is reported by the CLI itself
    except OSError as exc:
        fail(StorageError(f"could not write into {folder}: {exc.strerror or exc}", retryable=False).to_dict(),
             as_json)
    if as_json:
        emit_json({"written": [str(path) for path in written]})
    else:
        for path in written:
            echo(str(path))
