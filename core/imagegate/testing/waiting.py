"""``until``: wait for something a test cannot be told about directly, without fixed sleeps."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

__all__ = ["until"]


async def until(check: Callable[[], Any], *, timeout_s: float = 10.0, what: str = "the condition",
                interval_s: float = 0.01) -> Any:
    """Call ``check`` (plain or async) every ``interval_s`` until it returns something truthy, and
    return that; fail with :class:`AssertionError` naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout_s:g} s waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(interval_s)
