"""The one retry loop: provider attempts and the downloads of paid outputs both go through it.

A retryable :class:`~imagegate._errors.ImagegateError` is tried again after a back-off (the
upstream's ``Retry-After`` when it gave one), until the attempts run out or the wait would pass
the deadline; a final error is raised at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._errors import ImagegateError

__all__ = ["backoff_delay", "retrying"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
OnRetry = Callable[[int, ImagegateError, float], None]


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 30.0, retry_after: float | None = None,
                  rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): Retry-After when the upstream gave one,
    else exponential back-off with full jitter between half and all of ``base * 2**(attempt-1)``."""
    if retry_after is not None and retry_after >= 0:
        return float(retry_after)
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling * (0.5 + rng() / 2)


async def retrying(attempt: Callable[[int], Awaitable[T]], *, max_attempts: int, sleep: Sleep,
                   deadline: float | None = None, base: float = 1.0, on_retry: OnRetry | None = None,
                   clock: Callable[[], float] | None = None) -> T:
    """Run ``attempt(n)`` for n = 1, 2, ... until it returns; raise the error that ends the tries.

    ``on_retry(n, error, delay)`` is told before each wait (events, progress). ``deadline`` is on
    the ``clock`` (the event loop's by default).
    """
    number = 0
    while True:
        number += 1
        try:
            return await attempt(number)
        except ImagegateError as exc:
            if not exc.retryable or number >= max_attempts:
                raise
            delay = backoff_delay(number, base=base, retry_after=exc.retry_after)
            now = clock() if clock else asyncio.get_running_loop().time()
            if deadline is not None and now + delay >= deadline:
                raise
            if on_retry is not None:
                on_retry(number, exc, delay)
            await sleep(delay)
