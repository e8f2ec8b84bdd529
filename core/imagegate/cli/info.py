"""Catalog and installation commands: models, plugins, config."""

from __future__ import annotations

from typing import Any

import click

from ..redact import is_secret_name
from .output import JSON_OPTION, emit_json, run_async


@click.command()
@JSON_OPTION
def models(as_json: bool) -> None:
    """Every model of every installed provider, with what it supports."""
    from ..gateway import Gateway
    from ..plugins import make_plugin_manager
    from ..settings import Settings

    async def go() -> None:
        gateway = Gateway(Settings(), make_plugin_manager())
        summaries = [spec.summary() for spec in gateway.models()]
        await gateway.aclose()
        if as_json:
            emit_json(summaries)
            return
        for item in summaries:
            sizes = item["sizes"] or (f"aspect {', '.join(item['aspect_ratios'])}" if item["aspect_ratios"] else "-")
            click.echo(f"{item['id']:<18} {item['provider']:<12} {','.join(item['operations']):<25} "
                       f"n {item['n']['min']}-{item['n']['max']:<3} {'/'.join(item['output_formats']):<20} {sizes}")
            params = ", ".join(
                f"{name}={'|'.join(map(str, p['enum']))}" if "enum" in p else f"{name}:{p['type']}"
                for name, p in item["parameters"].items())
            if params:
                click.echo(f"{'':<18} {params}")

    run_async(go, as_json)


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include the built-in plugins.")
@JSON_OPTION
def plugins(show_all: bool, as_json: bool) -> None:
    """Installed plugins: name, distribution, version, hooks, load error."""
    from ..plugins import make_plugin_manager, plugin_infos

    infos = [info for info in plugin_infos(make_plugin_manager()) if show_all or not info.builtin]
    if as_json:
        emit_json([info.as_dict() for info in infos])
        return
    if not infos:
        click.echo("no plugins installed (pip install 'imagegate[all]')")
    for info in infos:
        state = f"FAILED: {info.error}" if info.error else ", ".join(info.hooks)
        click.echo(f"{info.name:<15} {info.distribution or '-'} {info.version or '-'}  {state}")


def _masked(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key) for v in value]
    if is_secret_name(key) and value:
        return "********"
    return value


@click.command()
@JSON_OPTION
def config(as_json: bool) -> None:
    """The effective configuration, secrets masked."""
    from ..settings import Settings

    settings = Settings()
    data = _masked(settings.model_dump(mode="json"))
    data["storage"]["spool_dir"] = str(settings.storage.resolved_spool_dir())
    if as_json:
        emit_json(data)
        return
    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}__{k}" if prefix else k, v)
        else:
            click.echo(f"{prefix.upper()}={value if value not in (None, {}, []) else ''}")

    walk("", data)


def attach(cli: click.Group) -> None:
    for command in (models, plugins, config):
        cli.add_command(command)
