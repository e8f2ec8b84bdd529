"""Redis unreachable at start stops the gateway with a clear error; lost while serving, requests fail
``unavailable`` (503, retryable) quickly, and work again once it is back."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from imagegate import ImageRequest, InvalidRequest, Unavailable
from imagegate_openai.testing import FakeOpenAI
from imagegate_redis.client import shown_url
from imagegate_redis.testing import RedisServer, free_port

REQUEST = ImageRequest(prompt="a lighthouse", model="gpt-image-2", size="1024x1024", params={"quality": "low"})


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key="sk-test") as server:
        yield server


def assert_unavailable(error: Unavailable, url: str) -> None:
    assert error.code == "unavailable" and error.http_status == 503 and error.retryable
    assert f"REDIS__URL={url}" in error.message


async def test_an_unreachable_redis_stops_the_start_naming_redis_url(make_gateway: Any, prefix: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(Unavailable) as refused:
        await make_gateway(url, prefix)
    assert_unavailable(refused.value, url)
    assert "cannot reach Redis" in refused.value.message


async def test_the_redis_job_store_needs_redis_url(tmp_path: Path) -> None:
    import imagegate_redis
    import imagegate_storage_local
    from imagegate import Gateway, Settings
    from imagegate._plugins import make_plugin_manager

    pm = make_plugin_manager(entrypoints=False)
    pm.register(imagegate_storage_local, name="storage-local")
    pm.register(imagegate_redis, name="redis")
    settings = Settings(jobs={"backend": "redis"}, storage={"local": {"root": str(tmp_path / "images")},
                                                            "spool_dir": str(tmp_path / "spool")})
    with pytest.raises(InvalidRequest) as refused:
        Gateway(settings, pm)
    assert refused.value.param == "REDIS__URL"


async def test_redis_lost_mid_run_fails_requests_unavailable_then_they_work_again(
        own_redis: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(own_redis.url, prefix, openai={"base_url": fake.base_url})
    before = await gateway.run("generate", REQUEST)
    [job] = await gateway.jobs.list("local", 10)
    own_redis.stop()
    for attempt in (lambda: gateway.run("generate", REQUEST), lambda: gateway.jobs.get(job["id"], "local")):
        started = time.monotonic()
        with pytest.raises(Unavailable) as lost:
            await attempt()
        assert time.monotonic() - started < 5
        assert_unavailable(lost.value, own_redis.url)
    assert fake.call_count == 1  # nothing is sent upstream that could not be recorded
    own_redis.start()  # same port, empty: new work is recorded again
    after = await gateway.run("generate", REQUEST)
    assert after.images[0].id != before.images[0].id and fake.call_count == 2
    assert [r["status"] for r in await gateway.jobs.list("local", 10)] == ["succeeded"]


async def test_shared_limits_refuse_calls_while_redis_is_lost(
        own_redis: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(own_redis.url, prefix, openai={"base_url": fake.base_url, "rpm": 100},
                                 jobs={"backend": "sqlite"})
    own_redis.stop()
    with pytest.raises(Unavailable) as lost:
        await gateway.run("generate", REQUEST)
    assert_unavailable(lost.value, own_redis.url)
    assert fake.call_count == 0  # no call goes out unlimited
    own_redis.start()
    await gateway.run("generate", REQUEST)
    assert fake.call_count == 1


def test_a_password_never_shows_in_messages() -> None:
    assert shown_url("redis://:s3cret@10.0.0.5:6380/2") == "redis://:***@10.0.0.5:6380/2"
    assert shown_url("redis://app:s3cret@cache/0") == "redis://app:***@cache/0"
    assert shown_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
