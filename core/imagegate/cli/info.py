"""Catalog and installation commands: models, plugins, config."""

from __future__ import annotations

from typing import Any

import click

from .output import JSON_OPTION, echo, emit_json, run_async


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
        echo("no plugins installed (pip install 'imagegate[all]')")
    for info in infos:
        state = f"FAILED: {info.error}" if info.error else ", ".join(info.hooks)
        echo(f"{info.name:<15} {info.distribution or '-'} {info.version or '-'}  {state}")


@click.command()
@JSON_OPTION
def config(as_json: bool) -> None:
    """The effective configuration of the core and every plugin, secrets masked; where images are
    stored and which variable each provider's key comes from."""
    from ..settings import Settings
    from ..settings_registry import installed_settings_registry
    from .config_view import effective_config

    data = effective_config(Settings(), installed_settings_registry())
    if as_json:
        emit_json(data)
        return

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}__{k}" if prefix else k, v)
        else:
            echo(f"{prefix.upper()}={value if value not in (None, {}, []) else ''}")

    resolved = data.pop("resolved")
    walk("", data)
    echo(f"# images are stored at {resolved['storage_location']}; "
         f"paid-for images wait in {resolved['spool_dir']} when that fails")
    for provider, variable in resolved["key_sources"].items():
        echo(f"# {provider} key: {f'from {variable}' if variable else 'not set'}")


def attach(cli: click.Group) -> None:
    for command in (models, plugins, config):
        cli.add_command(command)
