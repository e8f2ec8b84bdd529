"""``imagegate keys create|list|revoke|usage``: virtual API keys with their own models, rate and budget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from ._output import JSON_OPTION, cli_gateway, echo, emit_json, run_async

if TYPE_CHECKING:
    from .._keys import KeyStore


def _store_call(as_json: bool, work: object) -> None:
    async def go() -> None:
        async with cli_gateway(writes=False) as gateway:
            await work(gateway.keys.store)  # type: ignore[operator]

    run_async(go, as_json)


def _when(stamp: float | None) -> str:
    return "-" if stamp is None else datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


@click.group()
def keys() -> None:
    """Virtual API keys for HTTP and MCP, next to GATEWAY__API_KEYS (kept in the job store)."""


@keys.command()
@click.option("--name", required=True, help="A unique name (letters, digits, '.', '_', '-').")
@click.option("--rpm", type=click.IntRange(min=1), help="Requests a minute this key may start.")
@click.option("--budget-usd", type=click.FloatRange(min=0, min_open=True), help="USD this key may spend per period.")
@click.option("--budget-period", type=click.Choice(["day", "month"]), default="month", show_default=True)
@click.option("--models", help="Comma-separated models the key may use (default: all).")
@click.option("--admin", is_flag=True, help="The key sees every key's images and jobs.")
@JSON_OPTION
def create(name: str, rpm: int | None, budget_usd: float | None, budget_period: str, models: str | None,
           admin: bool, as_json: bool) -> None:
    """Make a key and print it once (only its digest is stored)."""
    from .._keys import VirtualKey

    secret, key = VirtualKey.new(VirtualKey.check_name(name), rpm=rpm, budget_usd=budget_usd,
                                 budget_period=budget_period,
                                 models=[m.strip() for m in (models or "").split(",") if m.strip()], admin=admin)

    async def work(store: KeyStore) -> None:
        await store.add(key)
        if as_json:
            emit_json({"name": key.name, "key": secret})
        else:
            echo(f"{key.name}: {secret}")
            echo("store it now: it is not shown again", err=True)

    _store_call(as_json, work)


@keys.command(name="list")
@JSON_OPTION
def list_keys(as_json: bool) -> None:
    """The keys (never the keys themselves): limits, models and whether revoked."""
    async def work(store: KeyStore) -> None:
        found = await store.all()
        if as_json:
            emit_json([key.public() for key in found])
            return
        for key in found:
            budget = f"${key.budget_usd:g}/{key.budget_period}" if key.budget_usd else "no budget"
            state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
            echo(f"{key.name}  {key.hint}…  {state}  rpm={key.rpm or '-'}  {budget}  "
                 f"models={','.join(key.models) or 'all'}{'  admin' if key.admin else ''}")

    _store_call(as_json, work)


@keys.command()
@click.argument("name")
@JSON_OPTION
def revoke(name: str, as_json: bool) -> None:
    """Revoke a key: it is refused from now on (within seconds on running servers)."""
    async def work(store: KeyStore) -> None:
        key = await store.revoke(name)
        if as_json:
            emit_json(key.public())
        else:
            echo(f"{key.name}: revoked {_when(key.revoked_at)}")

    _store_call(as_json, work)


@keys.command()
@click.argument("name", required=False)
@JSON_OPTION
def usage(name: str | None, as_json: bool) -> None:
    """Spend (USD) and requests per key and budget period, newest period first."""
    async def work(store: KeyStore) -> None:
        rows = await store.usage(name)
        if as_json:
            emit_json([row.model_dump() for row in rows])
            return
        for row in rows:
            reserved = f" (+${row.reserved_usd:.4f} in flight)" if row.reserved_usd else ""
            echo(f"{row.name}  {row.period}  ${row.spent_usd:.4f}{reserved}  {row.requests} request(s)")

    _store_call(as_json, work)


def attach(cli: click.Group) -> None:
    cli.add_command(keys)
