"""The JobStore contract (``imagegate.testing.JobStoreConformance``) held by the Redis job store;
the core holds the SQLite store to the same rules (``tests/test_job_store.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from imagegate.testing import JobStoreConformance
from imagegate_redis.job_store import RedisJobStore
from imagegate_redis.settings import RedisSettings
from imagegate_redis.testing import RedisServer


@pytest.fixture
async def job_store(redis_server: RedisServer, prefix: str) -> AsyncIterator[RedisJobStore]:
    store = RedisJobStore(RedisSettings(url=redis_server.url, prefix=prefix))
    try:
        yield store
    finally:
        await store.aclose()


class TestRedisJobStore(JobStoreConformance):
    pass
