"""Rate limits: a sliding window of starts, and per-provider concurrency plus requests per minute.

A request waits for a provider slot until its deadline and then fails ``rate_limited``: waiting is
what a caller wants from a gateway in front of a rate-limited upstream, but never past the time it
gave. Clock and sleep are injectable so tests prove "call N+1 waits" without sleeping.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol, runtime_checkable

from ._errors import RateLimited

__all__ = ["Limiter", "ProviderLimiter", "SlidingWindow"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindow:
    """At most ``limit`` starts in any ``period_s`` seconds (the provider RPM, the HTTP key rate)."""

    def __init__(self, limit: int, period_s: float = 60.0) -> None:
        self.limit = limit
        self.period_s = period_s
        self._starts: deque[float] = deque()

    def take(self, now: float) -> float:
        """Record a start at ``now`` and return 0, or return the seconds until one is free."""
        while self._starts and self._starts[0] <= now - self.period_s:
            self._starts.popleft()
        if len(self._starts) < self.limit:
            self._starts.append(now)
            return 0.0
        return self._starts[0] + self.period_s - now


@runtime_checkable
class Limiter(Protocol):
    """What holds one provider's limits (the in-process :class:`ProviderLimiter`, or one a plugin
    supplies through the ``provider_limiter`` hook, e.g. shared by every replica)."""

    def slot(self, deadline: float) -> AbstractAsyncContextManager[None]:
        """Hold a concurrency slot and an RPM start for one upstream call; raise
        :class:`~imagegate.RateLimited` when none frees up before ``deadline`` (event-loop clock)."""


class ProviderLimiter:
    """At most ``max_concurrency`` calls in flight and ``rpm`` starts per ``period_s``."""

    def __init__(self, provider: str, *, max_concurrency: int, rpm: int | None, period_s: float = 60.0,
                 clock: Clock | None = None, sleep: Sleep | None = None) -> None:
        self.provider = provider
        self.rpm = rpm
        self._window = SlidingWindow(rpm, period_s) if rpm is not None else None
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._rpm_lock = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep or asyncio.sleep

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    @asynccontextmanager
    async def slot(self, deadline: float) -> AsyncIterator[None]:
        """Hold a concurrency slot and an RPM start for one upstream call."""
        remaining = deadline - self._now()
        try:
            async with asyncio.timeout(max(0.0, remaining)):
                await self._semaphore.acquire()
        except TimeoutError:
            msg = f"{self.provider}: no free upstream slot before the deadline (max_concurrency)"
            raise RateLimited(msg, provider=self.provider) from None
        try:
            await self._take_rpm(deadline)
            yield
        finally:
            self._semaphore.release()

    async def _take_rpm(self, deadline: float) -> None:
        if self._window is None:
            return
        async with self._rpm_lock:
            while wait := self._window.take(self._now()):
                if self._now() + wait > deadline:
                    msg = f"{self.provider}: the {self.rpm} requests/minute limit leaves no slot before the deadline"
                    raise RateLimited(msg, provider=self.provider, retry_after=round(wait, 3))
                await self._sleep(wait)
