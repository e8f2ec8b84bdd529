"""``imagegate doctor``: one line per check of the installation; exit status 1 when one fails."""

from __future__ import annotations

import sys

import click

from ._output import JSON_OPTION, emit_json, run_async


@click.command()
@click.option("--verify", is_flag=True, help="Try each configured provider's key with one cheap listing call.")
@JSON_OPTION
def doctor(verify: bool, as_json: bool) -> None:
    """Check configuration, provider keys, storage, plugins and the default model."""
    from .._diagnostics import run_checks

    checks = run_async(lambda: run_checks(verify=verify), as_json)
    ok = all(check.status != "fail" for check in checks)
    if as_json:
        emit_json({"ok": ok, "checks": [check.as_dict() for check in checks]})
    else:
        for check in checks:
            click.echo(f"{check.status.upper():<5} {check.name:<22} {check.detail}")
    if not ok:
        sys.exit(1)


def attach(cli: click.Group) -> None:
    cli.add_command(doctor)
