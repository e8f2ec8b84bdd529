"""The KeyStore contract (``imagegate.testing.KeyStoreConformance``) held by the Redis key store: two
stores on one Redis stand for two replicas. The core holds the SQLite store to the same rules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from imagegate._keys import VirtualKey, key_digest
from imagegate.testing import KeyStoreConformance
from imagegate_redis.client import connect
from imagegate_redis.key_store import RedisKeyStore
from imagegate_redis.settings import RedisSettings
from imagegate_redis.testing import RedisServer


@pytest.fixture
async def key_stores(redis_server: RedisServer, prefix: str) -> AsyncIterator[tuple[RedisKeyStore, RedisKeyStore]]:
    settings = RedisSettings(url=redis_server.url, prefix=prefix)
    clients = [connect(settings), connect(settings)]
    try:
        yield RedisKeyStore(clients[0], settings), RedisKeyStore(clients[1], settings)
    finally:
        for client in clients:
            await client.aclose()


class TestRedisKeyStore(KeyStoreConformance):
    pass


async def test_only_the_digest_is_kept_in_redis(key_stores: tuple[RedisKeyStore, RedisKeyStore],
                                                redis_server: RedisServer, prefix: str) -> None:
    store = key_stores[0]
    secret, key = VirtualKey.new("app", budget_usd=1.0)
    await store.add(key)
    await store.reserve("app", "2026-12", 0.1, 1.0)
    client = connect(RedisSettings(url=redis_server.url, prefix=prefix))
    try:
        kept = b""
        async for name in client.scan_iter(match=prefix + "*"):
            if await client.type(name) == b"hash":
                values = [item for pair in (await client.hgetall(name)).items() for item in pair]
            else:
                values = list(await client.smembers(name))
            kept += name + b"".join(values)
    finally:
        await client.aclose()
    assert secret.encode() not in kept and key_digest(secret).encode() in kept
