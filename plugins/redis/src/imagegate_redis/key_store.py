"""``JOBS__BACKEND=redis``: virtual keys, their spending and their request rates in the jobs' Redis,
so every replica accepts the same keys and holds each to one budget and one rate.

A key is a hash ``<prefix>key:<name>`` (``record``: its JSON; ``revoked_at`` once revoked), found
by digest through the hash ``keys:digest`` (digest -> name). Spending is a hash per key and period,
``keys:spend:<name>:<period>`` (``spent``, ``reserved``, ``requests``), listed in the set
``keys:spend``. Each operation is one Lua script: a reservation checks ``spent + reserved +
estimate`` against the budget and adds to ``reserved`` in one step, so replicas never overspend
together. A key's requests a minute are a sliding window of starts ``keys:rate:<name>`` on Redis'
clock (the provider limits' script); the HTTP front-end's ``GATEWAY__RATE_LIMIT_RPM`` counts there
too, under names no key can have (``http:...``). Failed key attempts of a client address are a
sorted set of times ``auth:failures:<address>`` holding at most ``GATEWAY__AUTH_MAX_FAILURES``
entries and expiring with ``GATEWAY__AUTH_FAILURE_WINDOW_S``, so every replica locks out the same
addresses.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from imagegate import InvalidRequest, KeyUsage, NotFound, VirtualKey

from .client import guard
from .limits import NOW_MS, TAKE_START
from .settings import RedisSettings

if TYPE_CHECKING:
    import redis.asyncio as redis
    from imagegate import Settings

    from .job_store import RedisJobStore

__all__ = ["RedisKeyStore"]

_ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'record', ARGV[3])
return 1
"""

_FIND = """
local name = redis.call('HGET', KEYS[1], ARGV[1])
if not name then return false end
return redis.call('HMGET', ARGV[2] .. name, 'record', 'revoked_at')
"""

_ALL = """
local out = {}
for i, name in ipairs(redis.call('HVALS', KEYS[1])) do
  out[i] = redis.call('HMGET', ARGV[1] .. name, 'record', 'revoked_at')
end
return out
"""

_REVOKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'revoked_at', ARGV[1])
return redis.call('HMGET', KEYS[1], 'record', 'revoked_at')
"""

_RESERVE = """
local spent = redis.call('HGET', KEYS[1], 'spent') or '0'
local reserved = redis.call('HGET', KEYS[1], 'reserved') or '0'
if ARGV[4] ~= '' and tonumber(spent) + tonumber(reserved) + tonumber(ARGV[3]) > tonumber(ARGV[4]) + 1e-9 then
  return {spent, reserved}
end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'period', ARGV[2])
redis.call('HINCRBYFLOAT', KEYS[1], 'reserved', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'requests', 1)
redis.call('SADD', KEYS[2], KEYS[1])
return false
"""

_SETTLE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('HINCRBYFLOAT', KEYS[1], 'reserved', ARGV[1])) < 0 then
  redis.call('HSET', KEYS[1], 'reserved', '0')
end
redis.call('HINCRBYFLOAT', KEYS[1], 'spent', ARGV[2])
return 1
"""

_USAGE = """
local out = {}
for i, spend in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  out[i] = redis.call('HMGET', spend, 'name', 'period', 'spent', 'reserved', 'requests')
end
return out
"""

_FAILURE_WAIT = NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then return 0 end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + tonumber(ARGV[2]) - now)
"""

_RECORD_FAILURE = NOW_MS + """
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[1]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


def _key(row: list[bytes | None]) -> VirtualKey:
    """A key from its ``record`` and ``revoked_at`` fields."""
    record, revoked_at = row
    assert record is not None
    key = VirtualKey.model_validate_json(record)
    return key if revoked_at is None else key.model_copy(update={"revoked_at": float(revoked_at)})


class RedisKeyStore:
    """Virtual keys in Redis (follows :class:`~imagegate.KeyStore`, and counts each key's rate and
    each address's failed key attempts)."""

    def __init__(self, client: redis.Redis, settings: RedisSettings) -> None:
        self.settings = settings
        self._prefix = settings.prefix
        self._digests = self._prefix + "keys:digest"
        self._spending = self._prefix + "keys:spend"
        self._add = client.register_script(_ADD)
        self._find = client.register_script(_FIND)
        self._all = client.register_script(_ALL)
        self._revoke = client.register_script(_REVOKE)
        self._reserve = client.register_script(_RESERVE)
        self._settle = client.register_script(_SETTLE)
        self._usage = client.register_script(_USAGE)
        self._take_start = client.register_script(TAKE_START)
        self._failure_wait = client.register_script(_FAILURE_WAIT)
        self._record_failure = client.register_script(_RECORD_FAILURE)

    @classmethod
    def beside(cls, settings: Settings, jobs: RedisJobStore) -> RedisKeyStore:
        """The key store of ``JOBS__BACKEND=redis``, on the job store's client (closed with it)."""
        return cls(jobs.client, jobs.settings)

    def _record(self, name: str) -> str:
        return self._prefix + "key:" + name

    def _spend(self, name: str, period: str) -> str:
        return f"{self._spending}:{name}:{period}"

    async def add(self, key: VirtualKey) -> None:
        async with guard(self.settings, "storing a virtual key"):
            added = await self._add(keys=[self._record(key.name), self._digests],
                                    args=[key.name, key.digest, key.model_dump_json()])
        if added == 0:
            raise InvalidRequest(f"a key named {key.name!r} exists; choose another name", param="name")
        if added == -1:
            raise InvalidRequest("this key is stored already under another name; make a new key", param="key")

    async def find(self, digest: str) -> VirtualKey | None:
        async with guard(self.settings, "looking up a virtual key"):
            row = await self._find(keys=[self._digests], args=[digest, self._record("")])
        return None if not row or row[0] is None else _key(row)

    async def all(self) -> list[VirtualKey]:
        async with guard(self.settings, "listing virtual keys"):
            rows = await self._all(keys=[self._digests], args=[self._record("")])
        return sorted((_key(row) for row in rows if row[0] is not None), key=lambda key: key.name)

    async def revoke(self, name: str) -> VirtualKey:
        async with guard(self.settings, "revoking a virtual key"):
            row = await self._revoke(keys=[self._record(name)], args=[repr(time.time())])
        if not row:
            raise NotFound(f"no key named {name[:70]!r}", param="name")
        return _key(row)

    async def reserve(self, name: str, period: str, usd: float, budget_usd: float | None) -> float | None:
        async with guard(self.settings, "reserving a virtual key's budget"):
            refused = await self._reserve(
                keys=[self._spend(name, period), self._spending],
                args=[name, period, repr(float(usd)), "" if budget_usd is None else repr(float(budget_usd))])
        if not refused or budget_usd is None:
            return None
        spent, reserved = (float(value) for value in refused)
        return max(0.0, budget_usd - spent - reserved)

    async def settle(self, name: str, period: str, reserved_usd: float, spent_usd: float) -> None:
        async with guard(self.settings, "recording a virtual key's spending"):
            await self._settle(keys=[self._spend(name, period)],
                               args=[repr(-float(reserved_usd)), repr(float(spent_usd))])

    async def usage(self, name: str | None = None) -> list[KeyUsage]:
        async with guard(self.settings, "reading virtual keys' spending"):
            rows = await self._usage(keys=[self._spending])
        found = [KeyUsage(name=row[0].decode(), period=row[1].decode(), spent_usd=round(float(row[2] or 0), 6),
                          reserved_usd=round(float(row[3] or 0), 6), requests=int(row[4] or 0))
                 for row in rows if row[0] is not None and (name is None or row[0].decode() == name)]
        found.sort(key=lambda usage: usage.name)
        found.sort(key=lambda usage: usage.period, reverse=True)
        return found

    async def take_start(self, name: str, rpm: int) -> float:
        """Count a start of key ``name`` across every replica: 0, or the seconds until ``rpm`` allows one."""
        async with guard(self.settings, f"counting a request of key {name!r} against its rate"):
            wait_ms = await self._take_start(keys=[self._prefix + "keys:rate:" + name],
                                             args=[rpm, 60_000, secrets.token_hex(12)])
        return float(wait_ms) / 1000

    def _failures(self, client: str) -> str:
        return self._prefix + "auth:failures:" + client

    async def failure_wait(self, client: str, max_failures: int, window_s: float) -> float:
        """0, or the seconds until ``client`` may try a key again, counted across every replica."""
        async with guard(self.settings, "checking an address's failed API key attempts"):
            wait_ms = await self._failure_wait(keys=[self._failures(client)],
                                               args=[max_failures, _ms(window_s)])
        return float(wait_ms) / 1000

    async def record_failure(self, client: str, max_failures: int, window_s: float) -> None:
        """Count a failed key attempt of ``client`` for every replica."""
        async with guard(self.settings, "counting a failed API key attempt"):
            await self._record_failure(keys=[self._failures(client)],
                                       args=[max_failures, _ms(window_s), secrets.token_hex(12)])


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
