"""Provider limits held in Redis, so N replicas together keep one provider's RPM and max_concurrency.

Both are Lua scripts on Redis' own clock (``TIME``), so replicas with skewed clocks agree:

* requests per minute: a sorted set of start times per provider; a start is recorded only while
  fewer than ``rpm`` fall in the last ``period_s``, else the script says how long until one leaves;
* concurrency: a sorted set of leases per provider (token -> expiry). A slot is taken only while
  fewer than ``max_concurrency`` unexpired leases exist, renewed while the call runs and removed
  after it; a replica that dies mid-call frees its slots when their lease runs out.

A caller waits for a slot until its deadline and then fails ``rate_limited``, like the in-process
limiter; when Redis is lost the call fails ``unavailable`` instead of running unlimited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from imagegate import RateLimited

from .client import DOWN, guard
from .settings import RedisSettings

__all__ = ["NOW_MS", "TAKE_START", "SharedLimiter"]

log = logging.getLogger("imagegate.redis")

NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
"""The opening of a script that reads Redis' clock into ``now`` (milliseconds)."""

TAKE_START = NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - now)
"""
"""A sliding window of starts (``KEYS[1]``; ``ARGV``: limit, window in ms, a unique member): 0 when
the start is counted, else the milliseconds until one leaves the window. Per-key rates use it too."""

_ACQUIRE = NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
"""

_RENEW = NOW_MS + """
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""

_POLL_S = (0.02, 0.25)
"""First and longest pause between tries for a busy concurrency slot."""


class SharedLimiter:
    """One provider's limits, shared through Redis (follows :class:`~imagegate.Limiter`)."""

    def __init__(self, client: redis.Redis, settings: RedisSettings, provider: str, *, max_concurrency: int,
                 rpm: int | None, period_s: float = 60.0, lease_s: float = 30.0) -> None:
        self.provider = provider
        self.max_concurrency = max_concurrency
        self.rpm = rpm
        self.period_s = period_s
        self.lease_s = lease_s
        self._settings = settings
        self._starts = settings.prefix + f"limits:{provider}:starts"
        self._leases = settings.prefix + f"limits:{provider}:leases"
        self._take_start = client.register_script(TAKE_START)
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._client = client

    @asynccontextmanager
    async def slot(self, deadline: float) -> AsyncIterator[None]:
        """Hold a concurrency lease and an RPM start for one upstream call."""
        token = await self._lease(deadline)
        renewing = asyncio.create_task(self._keep(token))
        try:
            await self._start(deadline)
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            await self._give_back(token)

    async def _lease(self, deadline: float) -> str:
        loop = asyncio.get_running_loop()
        token = secrets.token_hex(12)
        pause = _POLL_S[0]
        while True:
            async with guard(self._settings, f"taking a {self.provider} concurrency slot"):
                taken = await self._acquire(keys=[self._leases],
                                            args=[token, self.max_concurrency, int(self.lease_s * 1000)])
            if taken:
                return token
            if loop.time() + pause > deadline:
                msg = f"{self.provider}: no free upstream slot before the deadline (max_concurrency)"
                raise RateLimited(msg, provider=self.provider)
            await asyncio.sleep(pause)
            pause = min(pause * 2, _POLL_S[1])

    async def _start(self, deadline: float) -> None:
        if self.rpm is None:
            return
        loop = asyncio.get_running_loop()
        while True:
            async with guard(self._settings, f"counting a {self.provider} request against its RPM"):
                wait_ms = await self._take_start(keys=[self._starts],
                                                 args=[self.rpm, int(self.period_s * 1000), secrets.token_hex(12)])
            if not wait_ms:
                return
            wait = wait_ms / 1000
            if loop.time() + wait > deadline:
                msg = f"{self.provider}: the {self.rpm} requests/minute limit leaves no slot before the deadline"
                raise RateLimited(msg, provider=self.provider, retry_after=round(wait, 3))
            await asyncio.sleep(wait)

    async def _keep(self, token: str) -> None:
        """Renew the lease while the call runs (a third of its life at a time)."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self._renew(keys=[self._leases], args=[token, int(self.lease_s * 1000)])
            except DOWN as exc:  # the call goes on; the lease may lapse, which only frees a slot early
                log.warning("could not renew a %s concurrency lease in Redis: %s", self.provider, exc)

    async def _give_back(self, token: str) -> None:
        try:
            await self._client.zrem(self._leases, token)
        except DOWN as exc:  # the lease runs out by itself
            log.warning("could not release a %s concurrency lease in Redis (it expires in %g s): %s",
                        self.provider, self.lease_s, exc)
