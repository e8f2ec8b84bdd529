"""``JOBS__BACKEND=redis``: every replica's jobs in one Redis, so any replica can read, await and
cancel a job another one runs.

A job is a hash ``<prefix>job:<id>`` holding each top-level field of the record as JSON, plus the
names of the index keys it is listed under. Indexes: ``jobs:owner:<owner>`` (sorted by creation
time, newest first with ties by id, like the SQLite store), ``jobs:key:<digest>`` (an idempotency
key's job id), ``jobs:created`` (every job by creation time, for purging) and ``jobs:unfinished``;
``runners`` holds each gateway process's heartbeat (a sorted set scored by when it lapses).
Each operation is one Lua script, so it is atomic: of concurrent creates with one idempotency key
one wins and the others get its record; a conditional update checks the status and writes in one
step; purging never removes a job that is still queued or running.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from imagegate import Settings

from .client import connect, guard
from .limits import NOW_MS
from .settings import RedisSettings

__all__ = ["RedisJobStore"]

_UNFINISHED = ("queued", "running")
_INDEX_OWNER = b"_ix:owner"
_INDEX_KEY = b"_ix:key"
_PURGE_BATCH = 500

_CREATE = """
if KEYS[5] ~= '' then
  local existing = redis.call('GET', KEYS[5])
  if existing then
    local found = redis.call('HGETALL', ARGV[4] .. existing)
    if #found > 0 then return found end
  end
  redis.call('SET', KEYS[5], ARGV[1])
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if ARGV[3] == '1' then redis.call('SADD', KEYS[4], ARGV[1]) end
return false
"""

_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local wanted = tonumber(ARGV[2])
if wanted > 0 then
  local status = redis.call('HGET', KEYS[1], 'status')
  local allowed = false
  for i = 3, 2 + wanted do
    if ARGV[i] == status then allowed = true end
  end
  if not allowed then return 0 end
end
if #ARGV > 2 + wanted then redis.call('HSET', KEYS[1], unpack(ARGV, 3 + wanted)) end
local status = redis.call('HGET', KEYS[1], 'status')
if status == '"queued"' or status == '"running"' then
  redis.call('SADD', KEYS[2], ARGV[1])
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
"""

_LIST = """
local start = 0
if ARGV[2] ~= '' then
  local rank = redis.call('ZREVRANK', KEYS[1], ARGV[2])
  if not rank then return {} end
  start = rank + 1
end
local ids = redis.call('ZREVRANGE', KEYS[1], start, start + tonumber(ARGV[1]) - 1)
local out = {}
for i, id in ipairs(ids) do out[i] = redis.call('HGETALL', ARGV[3] .. id) end
return out
"""

_UNFINISHED_RECORDS = """
local out = {}
for i, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do out[i] = redis.call('HGETALL', ARGV[1] .. id) end
return out
"""

_PURGE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', ARGV[3], ARGV[4])
local purged = 0
for _, id in ipairs(ids) do
  if redis.call('SISMEMBER', KEYS[2], id) == 0 then
    local job = ARGV[2] .. id
    local index = redis.call('HMGET', job, '_ix:owner', '_ix:key')
    if index[1] then redis.call('ZREM', index[1], id) end
    if index[2] and redis.call('GET', index[2]) == id then redis.call('DEL', index[2]) end
    redis.call('DEL', job)
    redis.call('ZREM', KEYS[1], id)
    purged = purged + 1
  end
end
return {purged, #ids}
"""


_RUNNERS = """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', ARGV[1] .. id, 'runner') or 'null'
end
return out
"""

_HEARTBEAT = NOW_MS + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 86400000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
"""

_CLAIM = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= '"queued"' and status ~= '"running"' then return false end
local current = redis.call('HGET', KEYS[1], 'runner')
local id = ''
if current and current ~= 'null' then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and type(decoded.id) == 'string' then id = decoded.id end
end
if id ~= ARGV[1] then return false end
redis.call('HSET', KEYS[1], 'runner', ARGV[2])
return redis.call('HGETALL', KEYS[1])
"""


def _fields(fields: dict[str, Any]) -> list[bytes]:
    """``fields`` as hash field/value pairs, each value JSON."""
    pairs: list[bytes] = []
    for name, value in fields.items():
        pairs += [name.encode(), orjson.dumps(value)]
    return pairs


def _record(hash_: list[bytes] | dict[bytes, bytes]) -> dict[str, Any] | None:
    """A job's hash (a script's flat HGETALL list, or the client's dict) as its record, without
    the index fields; None when there is no such job."""
    if not hash_:
        return None
    pairs = hash_.items() if isinstance(hash_, dict) else zip(hash_[::2], hash_[1::2], strict=True)
    return {name.decode(): orjson.loads(value) for name, value in pairs if not name.startswith(b"_ix:")}


class RedisJobStore:
    """Jobs in Redis, shared by every gateway that names the same ``REDIS__URL`` and prefix."""

    def __init__(self, settings: RedisSettings) -> None:
        self.settings = settings
        self.client = connect(settings)
        self._prefix = settings.prefix
        self._create = self.client.register_script(_CREATE)
        self._update = self.client.register_script(_UPDATE)
        self._list = self.client.register_script(_LIST)
        self._unfinished = self.client.register_script(_UNFINISHED_RECORDS)
        self._purge = self.client.register_script(_PURGE)
        self._heartbeat = self.client.register_script(_HEARTBEAT)
        self._runners = self.client.register_script(_RUNNERS)
        self._claim = self.client.register_script(_CLAIM)

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisJobStore:
        from imagegate import InvalidRequest

        section = settings.section("redis", RedisSettings)
        if section.url is None:
            raise InvalidRequest("JOBS__BACKEND=redis needs REDIS__URL (e.g. redis://127.0.0.1:6379/0)",
                                 param="REDIS__URL")
        return cls(section)

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    def _job(self, job_id: str) -> str:
        return self._key("job", job_id)

    def _owner(self, owner: str) -> str:
        return self._key("jobs", "owner", owner)

    def _idempotency(self, owner: str, key: str) -> str:
        digest = hashlib.sha256(f"{owner}\0{key}".encode()).hexdigest()
        return self._key("jobs", "key", digest)

    async def create(self, record: dict[str, Any]) -> dict[str, Any]:
        """Insert ``record``; when its ``(owner, idempotency_key)`` exists, return that one instead."""
        job_id, owner, key = record["id"], record["owner"], record.get("idempotency_key")
        key_index = self._idempotency(owner, key) if key is not None else ""
        pairs = [*_fields(record), _INDEX_OWNER, self._owner(owner).encode()]
        if key_index:
            pairs += [_INDEX_KEY, key_index.encode()]
        async with guard(self.settings, "recording a job"):
            found = await self._create(
                keys=[self._job(job_id), self._owner(owner), self._key("jobs", "created"),
                      self._key("jobs", "unfinished"), key_index],
                args=[job_id, repr(float(record["created_at"])), "1" if record["status"] in _UNFINISHED else "0",
                      self._key("job", ""), *pairs])
        return _record(found) or record

    async def update(self, job_id: str, fields: dict[str, Any], *, only_if: tuple[str, ...] = ()) -> bool:
        """Merge ``fields`` into the record (only when its status is in ``only_if``, if given)."""
        async with guard(self.settings, "updating a job"):
            done = await self._update(
                keys=[self._job(job_id), self._key("jobs", "unfinished")],
                args=[job_id, len(only_if), *(orjson.dumps(status) for status in only_if), *_fields(fields)])
        return bool(done)

    async def get(self, job_id: str) -> dict[str, Any] | None:
        async with guard(self.settings, "reading a job"):
            found = await self.client.hgetall(self._job(job_id))
        return _record(found)

    async def list(self, owner: str | None, limit: int, before: str | None = None) -> list[dict[str, Any]]:
        """The owner's jobs (every owner's for None), newest first, older than job ``before`` when given."""
        index = self._owner(owner) if owner is not None else self._key("jobs", "created")
        async with guard(self.settings, "listing jobs"):
            rows = await self._list(keys=[index], args=[limit, before or "", self._key("job", "")])
        return [record for row in rows if (record := _record(row)) is not None]

    async def unfinished(self) -> list[dict[str, Any]]:
        async with guard(self.settings, "listing unfinished jobs"):
            rows = await self._unfinished(keys=[self._key("jobs", "unfinished")], args=[self._key("job", "")])
        records = [record for row in rows if (record := _record(row)) is not None]
        return sorted(records, key=lambda record: record["created_at"])

    async def runners(self) -> dict[str, dict[str, Any] | None]:
        """The runner of every queued or running job, by job id."""
        async with guard(self.settings, "listing the runners of unfinished jobs"):
            flat = await self._runners(keys=[self._key("jobs", "unfinished")], args=[self._key("job", "")])
        return {job_id.decode(): orjson.loads(runner) for job_id, runner in zip(flat[::2], flat[1::2], strict=True)}

    async def heartbeat(self, runner: str, ttl_s: float) -> set[str]:
        """Note that process ``runner`` lives for ``ttl_s`` more seconds (by Redis's clock, one for
        every replica); return every runner alive now."""
        async with guard(self.settings, "noting this gateway alive"):
            alive = await self._heartbeat(keys=[self._key("runners")], args=[runner, round(ttl_s * 1000)])
        return {name.decode() for name in alive}

    async def claim(self, job_id: str, runner: dict[str, Any], *, previous: str | None) -> dict[str, Any] | None:
        """Make ``runner`` the unfinished job's runner if its runner's ``id`` is still ``previous``."""
        async with guard(self.settings, "taking over a job"):
            found = await self._claim(keys=[self._job(job_id)], args=[previous or "", orjson.dumps(runner)])
        return _record(found) if found else None

    async def purge(self, older_than: float) -> int:
        """Delete finished jobs created before ``older_than`` (epoch seconds); return how many."""
        purged = skipped = 0
        async with guard(self.settings, "purging jobs"):
            while True:
                gone, seen = await self._purge(
                    keys=[self._key("jobs", "created"), self._key("jobs", "unfinished")],
                    args=[repr(float(older_than)), self._key("job", ""), skipped, _PURGE_BATCH])
                purged += gone
                skipped += seen - gone
                if seen < _PURGE_BATCH:
                    return purged

    async def aclose(self) -> None:
        await self.client.aclose()

