"""Per-provider concurrency and requests-per-minute limits, and the retry back-off.

A request waits for a slot until its deadline and then fails ``rate_limited``: waiting is what a
caller wants from a gateway in front of a rate-limited upstream, but never past the time it gave.
Clock and sleep are injectable so tests prove "call N+1 waits" without sleeping.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from .errors import RateLimited

__all__ = ["ProviderLimiter", "backoff_delay"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 30.0, retry_after: float | None = None,
                  rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): Retry-After when the upstream gave one,
    else exponential back-off with full jitter between half and all of ``base * 2**(attempt-1)``."""
    if retry_after is not None and retry_after >= 0:
        return float(retry_after)
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling * (0.5 + rng() / 2)


class ProviderLimiter:
    """At most ``max_concurrency`` calls in flight and ``rpm`` starts per ``period_s``."""

    def __init__(self, provider: str, *, max_concurrency: int, rpm: int | None, period_s: float = 60.0,
                 clock: Clock | None = None, sleep: Sleep | None = None) -> None:
        self.provider = provider
        self.rpm = rpm
        self.period_s = period_s
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._starts: deque[float] = deque()
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
        if self.rpm is None:
            return
        async with self._rpm_lock:
            while True:
                now = self._now()
                while self._starts and self._starts[0] <= now - self.period_s:
                    self._starts.popleft()
                if len(self._starts) < self.rpm:
                    self._starts.append(now)
                    return
                wait = self._starts[0] + self.period_s - now
                if now + wait > deadline:
                    msg = f"{self.provider}: the {self.rpm} requests/minute limit leaves no slot before the deadline"
                    raise RateLimited(msg, provider=self.provider, retry_after=round(wait, 3))
                await self._sleep(wait)
