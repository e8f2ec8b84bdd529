"""Progress notifications while a generation runs, so hosts do not give up on a long call.

The gateway's progress callback is synchronous; statuses are queued and sent by one task, which
also sends a heartbeat when nothing happened for ``MCP__PROGRESS_INTERVAL_S``. Nothing runs when
the client sent no progress token. A job's progress goes through a :class:`ProgressRelay`, so
whichever call waits for it (the call that started it, then ``get_job``) reports it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Progress

__all__ = ["ProgressRelay", "describe_status", "progress_reporter"]

log = logging.getLogger("imagegate.mcp")

Send = Callable[[float, float | None, str | None], Awaitable[None]]


def describe_status(message: str, data: dict[str, Any]) -> str:
    """A short human line for a gateway status (never the image data of a partial image)."""
    if message == "retrying":
        return (f"retrying after {data.get('reason')} (attempt {data.get('attempt')}), "
                f"waiting {float(data.get('delay_s') or 0):.1f} s")
    if message == "partial_image":
        return f"partial image {data.get('index', 0)} received"
    details = ", ".join(f"{k}={v}" for k, v in data.items()
                        if isinstance(v, (str, int, float, bool)) and len(str(v)) <= 80)
    return f"{message} ({details})" if details else message


async def _pump(queue: asyncio.Queue[str], send: Send, interval: float) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    count = 0
    last = "started"
    while True:
        try:
            async with asyncio.timeout(interval):
                last = await queue.get()
                text = last
        except TimeoutError:
            text = f"working: {last} ({loop.time() - started:.0f} s)"
        count += 1
        try:
            await send(count, None, text)
        except Exception as exc:  # the client went away; the call itself decides what happens
            log.debug("progress notification failed: %s", type(exc).__name__)
            return


@asynccontextmanager
async def progress_reporter(send: Send | None, interval: float) -> AsyncIterator[Progress]:
    """Yield the gateway's progress callback; with ``send`` set, notifications flow meanwhile."""
    if send is None:
        yield lambda message, data: None
        return
    queue: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(_pump(queue, send, interval))
    queue.put_nowait("started")
    try:
        yield lambda message, data: queue.put_nowait(describe_status(message, data))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class ProgressRelay:
    """A job's progress callback, told to every call waiting for the job meanwhile."""

    def __init__(self) -> None:
        self.listeners: list[Progress] = []

    def __call__(self, message: str, data: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(message, data)

    @contextmanager
    def listening(self, listener: Progress) -> Iterator[None]:
        """Tell ``listener`` the job's progress while the block runs."""
        self.listeners.append(listener)
        try:
            yield
        finally:
            self.listeners.remove(listener)
