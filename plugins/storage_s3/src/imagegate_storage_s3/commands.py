"""``imagegate spool list`` and ``imagegate spool drain``."""

from __future__ import annotations

from typing import Any

import click
from imagegate.cli import JSON_OPTION

__all__ = ["spool"]


@click.group()
def spool() -> None:
    """Images kept on this machine because the storage backend failed (STORAGE__SPOOL_DIR)."""


def _spool_entries() -> list[dict[str, Any]]:
    """What waits in the spool; needs no storage backend, so it works while the bucket is down."""
    from imagegate import NotFound
    from imagegate.files import FileStore
    from imagegate import Settings

    store = FileStore(Settings().storage.resolved_spool_dir())
    entries = []
    for image_id in store.ids_sync():
        try:
            metadata = store.metadata_sync(image_id)
        except NotFound:
            continue
        entries.append({
            "id": image_id, "path": str(store.image_path(image_id, metadata["extension"])),
            "bytes": metadata.get("bytes"), "mime_type": metadata.get("mime_type"),
            "created": metadata.get("created"), "model": metadata.get("model"),
        })
    return entries


@spool.command("list")
@JSON_OPTION
def list_spool(as_json: bool) -> None:
    """List spooled images, newest first."""
    import asyncio

    from imagegate.cli import emit_json, run_async

    async def collect() -> list[dict[str, Any]]:
        return await asyncio.to_thread(_spool_entries)

    entries = run_async(collect, as_json)
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("the spool is empty")
    for entry in entries:
        click.echo(f"{entry['id']}  {entry['bytes']} bytes  {entry['path']}")


@spool.command("drain")
@JSON_OPTION
def drain_spool(as_json: bool) -> None:
    """Move spooled images into the storage backend (STORAGE__BACKEND)."""
    import asyncio

    from imagegate.cli import cli_gateway, emit_json, fail, run_async
    from imagegate import StorageError

    async def drain() -> dict[str, Any]:
        waiting = {entry["id"] for entry in await asyncio.to_thread(_spool_entries)}
        async with cli_gateway() as gateway:  # opening drains too (the startup hook)
            await gateway.drain_spool()
            backend = gateway.storage.name
        left = [entry["id"] for entry in await asyncio.to_thread(_spool_entries)]
        return {"backend": backend, "moved": sorted(waiting - set(left)), "left": left}

    outcome = run_async(drain, as_json)
    if outcome["left"]:
        msg = (f"{len(outcome['left'])} image(s) are still in the spool: the {outcome['backend']} backend "
               f"refused them (moved {len(outcome['moved'])}); see the log and try again")
        fail(StorageError(msg).to_dict(), as_json)
    if as_json:
        emit_json(outcome)
        return
    click.echo(f"moved {len(outcome['moved'])} image(s) into the {outcome['backend']} backend; the spool is empty")
