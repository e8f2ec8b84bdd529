"""``imagegate gc``: one retention pass now (``STORAGE__RETENTION_DAYS``, ``STORAGE__MAX_SIZE_GB``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ._output import JSON_OPTION, cli_gateway, echo, emit_json, run_async

if TYPE_CHECKING:
    from .._retention import GcReport


@click.command()
@click.option("--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
@JSON_OPTION
def gc(dry_run: bool, as_json: bool) -> None:
    """Delete images past the retention settings (oldest first) and print what went."""
    async def go() -> None:
        from .._retention import collect_garbage

        async with cli_gateway(writes=False) as gateway:
            report = await collect_garbage(gateway, dry_run=dry_run)
        if as_json:
            emit_json(report.as_dict())
        else:
            _print(report)
        if report.failed:
            sys.exit(1)

    run_async(go, as_json)


def _print(report: GcReport) -> None:
    if not report.active:
        echo("retention is off: set STORAGE__RETENTION_DAYS or STORAGE__MAX_SIZE_GB; nothing deleted")
        return
    verb = "would delete" if report.dry_run else "deleted"
    echo(f"{verb} {len(report.deleted)} image(s), {report.bytes} bytes "
         f"(of {report.stored_images} stored, {report.stored_bytes} bytes; {report.protected} protected)")
    for entry, reason in report.deleted:
        echo(f"{entry.image_id}  {entry.bytes}  {entry.stored_at.isoformat(timespec='seconds')}  {reason}")
    for image_id in report.failed:
        echo(f"could not delete {image_id}", err=True)


def attach(cli: click.Group) -> None:
    cli.add_command(gc)
