"""Catalog and installation commands: models, plugins, config."""

from __future__ import annotations

import sys
from typing import Any

import click

from .._model_status import ALARM_DAYS, lifecycle_text, model_entry
from ._output import JSON_OPTION, echo, emit_json, run_async


@click.command()
@click.option("--check", is_flag=True, help=(
    "Ask each configured provider what it serves and compare with the catalog; exit status 1 when "
    f"the default model is retired or shuts down within {ALARM_DAYS} days."))
@JSON_OPTION
def models(check: bool, as_json: bool) -> None:
    """Every model of every installed provider: what it supports, its lifecycle, whether it is ready."""
    from .._gateway import Gateway
    from .._plugins import make_plugin_manager
    from .._settings import Settings

    async def go() -> bool:
        gateway = Gateway(Settings(), make_plugin_manager())
        try:
            if check:
                from datetime import UTC, datetime

                from .._upstream_check import check_upstreams

                report = await check_upstreams(gateway, datetime.now(UTC).date())
                if as_json:
                    emit_json(report)
                else:
                    _print_check(report)
                return bool(report["ok"])
            default = gateway.default_model
            entries = [model_entry(gateway, spec, default) for spec in gateway.models()]
        finally:
            await gateway.aclose()
        if as_json:
            emit_json(entries)
        else:
            _print_models(entries)
        return True

    if not run_async(go, as_json):
        sys.exit(1)


def _print_models(entries: list[dict[str, Any]]) -> None:
    for item in entries:
        sizes = item["sizes"] or (f"aspect {', '.join(item['aspect_ratios'])}" if item["aspect_ratios"] else "-")
        click.echo(f"{item['id']:<18} {item['provider']:<12} {','.join(item['operations']):<25} "
                   f"n {item['n']['min']}-{item['n']['max']:<3} {'/'.join(item['output_formats']):<20} {sizes}")
        state = [lifecycle_text(item), "ready" if item["ready"] else f"not ready: {item['setup']}"]
        if item["default"]:
            state.append("default")
        if item["price_source"] == "unofficial":
            state.append("prices unofficial")
        if item["aliases"]:
            state.append(f"aliases: {', '.join(item['aliases'])}")
        click.echo(f"{'':<18} {'; '.join(state)}")
        params = ", ".join(
            f"{name}={'|'.join(map(str, p['enum']))}" if "enum" in p else f"{name}:{p['type']}"
            for name, p in item["parameters"].items())
        if params:
            click.echo(f"{'':<18} {params}")


def _print_check(report: dict[str, Any]) -> None:
    for item in report["providers"]:
        if item["error"]:
            click.echo(f"{item['provider']}: {item['error']}")
            continue
        click.echo(f"{item['provider']}: {item['listed']} upstream model(s) listed")
        for model_id in item["missing_upstream"]:
            click.echo(f"  no longer listed upstream: {model_id}")
        for upstream_id in item["not_in_catalog"]:
            click.echo(f"  upstream image model not in the catalog: {upstream_id}")
        for change in item["shutdown_changes"]:
            click.echo(f"  shutdown date of {change['model']}: catalog {change['catalog'] or 'none'}, "
                       f"upstream {change['upstream'] or 'none'}")
    default = report["default_model"]
    when = (f", shuts down {default['shutdown_date']} ({default['days_left']} days left)"
            if default["shutdown_date"] else ", no shutdown date announced")
    status = f"{default['status']}{when}" if default["status"] else "unknown"
    click.echo(f"default model {default['model']}: {status}")
    if default["alarm"]:
        instead = f"; use {default['replacement']} instead" if default["replacement"] else ""
        click.echo(f"ALARM: {default['alarm']}{instead}")


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include the built-in plugins.")
@JSON_OPTION
def plugins(show_all: bool, as_json: bool) -> None:
    """Installed plugins: name, distribution, version, hooks, load error."""
    from .._plugins import make_plugin_manager, plugin_infos

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
    from .._settings import Settings, installed_settings_registry
    from ._config_view import effective_config

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
