"""Moving images from the spool into the bucket: once when a gateway opens, then periodically.

The gateway spools paid-for images whose storage write failed (``STORAGE__SPOOL_DIR``);
:meth:`imagegate._gateway.Gateway.drain_spool` moves them. This module decides when that runs. The
periodic drain (``STORAGE__S3__DRAIN_INTERVAL_S``) lives as long as the S3 backend: its task is
cancelled when the gateway closes the backend.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .backend import S3Storage

if TYPE_CHECKING:
    from imagegate import Gateway

__all__ = ["drain_at_startup", "drain_periodically"]

log = logging.getLogger("imagegate.storage_s3")


async def drain_once(gateway: Gateway) -> list[str]:
    """Drain now; log what moved. Failures stay spooled (the gateway logs why)."""
    moved = await gateway.drain_spool()
    if moved:
        log.info("moved %d spooled image(s) into the bucket", len(moved))
    return moved


async def drain_at_startup(gateway: Gateway) -> None:
    """Drain the spool, then keep draining every ``drain_interval_s`` (unless it is 0)."""
    storage = gateway.storage
    if not isinstance(storage, S3Storage):
        return
    await drain_once(gateway)
    interval = storage.config.drain_interval_s
    if interval:
        storage.run_in_background(drain_periodically(gateway, interval))


async def drain_periodically(gateway: Gateway, interval_s: float,
                             sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """Drain every ``interval_s`` seconds until cancelled; an unexpected error is logged, not fatal."""
    while True:
        await sleep(interval_s)
        try:
            await drain_once(gateway)
        except Exception:
            log.exception("periodic spool drain failed; will try again in %g s", interval_s)
