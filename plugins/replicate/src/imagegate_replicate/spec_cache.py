"""Specs of models resolved by name, kept per process: bounded, and fetched once at a time.

``replicate/owner/name`` is resolved by reading the model's schema from Replicate; the spec built
from it is kept (the least recently used goes once ``size`` are kept), concurrent requests for a
model not yet cached share one fetch, and a failed fetch is not kept, so the next request asks again.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imagegate import ModelSpec

__all__ = ["SpecCache"]


class SpecCache:
    """``ref`` -> :class:`ModelSpec`, at most ``size`` of them."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._specs: OrderedDict[str, ModelSpec] = OrderedDict()
        self._pending: dict[str, asyncio.Future[ModelSpec]] = {}

    def __len__(self) -> int:
        return len(self._specs)

    async def get(self, ref: str, fetch: Callable[[], Awaitable[ModelSpec]]) -> ModelSpec:
        """The cached spec, or the one ``fetch`` builds (shared by concurrent callers)."""
        if ref in self._specs:
            self._specs.move_to_end(ref)
            return self._specs[ref]
        pending = self._pending.get(ref)
        if pending is None:
            pending = asyncio.ensure_future(fetch())
            self._pending[ref] = pending
            pending.add_done_callback(lambda done: self._settle(ref, done))
        return await asyncio.shield(pending)

    def _settle(self, ref: str, done: asyncio.Future[ModelSpec]) -> None:
        self._pending.pop(ref, None)
        if done.cancelled() or done.exception() is not None:
            return
        self._specs[ref] = done.result()
        while len(self._specs) > self.size:
            self._specs.popitem(last=False)
