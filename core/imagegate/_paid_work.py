"""Paid-for work outlives its caller: once an upstream may have charged, the images are finished
and stored even if the caller goes away, in the background, and the gateway waits for them on close.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["PaidWork"]

log = logging.getLogger("imagegate.gateway")

T = TypeVar("T")


class PaidWork:
    """Work the caller may abandon but the gateway finishes."""

    def __init__(self) -> None:
        self._background: set[asyncio.Task[Any]] = set()

    async def finish(self, work: asyncio.Future[T], paying: Callable[[], bool] | None = None) -> T:
        """Await ``work``; if the caller is cancelled, let it finish in the background, unless
        ``paying()`` says nothing may have been spent yet (a call still waiting for its provider's
        slot): then it is cancelled too."""
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            if not work.done() and paying is not None and not paying():
                work.cancel()
                await asyncio.wait([work])
            elif not work.done():
                task = asyncio.ensure_future(work)
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                log.info("caller went away; paid-for work continues in the background")
            raise

    async def settle(self) -> None:
        """Wait for abandoned work to be finished (its errors are the background's own)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
