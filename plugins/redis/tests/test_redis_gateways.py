"""Two gateways on one Redis act as one: jobs, idempotency keys, provider limits and the signing key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from imagegate import ImageRequest, NotFound, RateLimited
from imagegate.testing import until
from imagegate_openai.testing import FakeOpenAI
from imagegate_redis.testing import RedisServer

REQUEST = ImageRequest(prompt="a lighthouse", model="gpt-image-2", size="1024x1024", params={"quality": "low"})
OWNER = "key_team"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key="sk-test") as server:
        yield server


async def pair(make_gateway: Any, server: RedisServer, prefix: str, fake: FakeOpenAI,
               **openai: Any) -> tuple[Any, Any]:
    a = await make_gateway(server.url, prefix, name="a", openai={"base_url": fake.base_url, **openai})
    b = await make_gateway(server.url, prefix, name="b", openai={"base_url": fake.base_url, **openai})
    return a, b


async def test_a_job_submitted_on_one_gateway_is_read_awaited_and_listed_on_another(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a, b = await pair(make_gateway, redis_server, prefix, fake)
    fake.hang()
    submitted = await a.jobs.submit("generate", REQUEST, owner=OWNER)
    job_id = submitted.record["id"]
    assert (await b.jobs.get(job_id, OWNER))["status"] in ("queued", "running")
    with pytest.raises(NotFound):
        await b.jobs.get(job_id, "key_other")
    waiting = asyncio.ensure_future(b.jobs.wait(job_id, OWNER, 30))
    await until(lambda: fake.call_count == 1)
    fake.release()
    record = await waiting
    assert record["status"] == "succeeded"
    result = await b.jobs.finished(record, with_data=True)
    assert result.images[0].data == await a.read(result.images[0].id)
    assert [r["id"] for r in await b.jobs.list(OWNER, 10)] == [job_id]
    assert fake.call_count == 1


async def test_a_job_running_on_one_gateway_is_canceled_from_another(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a, b = await pair(make_gateway, redis_server, prefix, fake)
    fake.hang()
    submitted = await a.jobs.submit("generate", REQUEST, owner=OWNER)
    await until(lambda: fake.call_count == 1)
    record = await b.jobs.cancel(submitted.record["id"], OWNER)
    assert record["status"] == "canceled"
    done, _ = await asyncio.wait([submitted.task], timeout=10)  # the runner stops its upstream call
    assert done and submitted.task.cancelled()
    fake.release()
    assert (await a.jobs.get(record["id"], OWNER))["status"] == "canceled"


async def test_one_idempotency_key_on_two_gateways_makes_one_upstream_call(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a, b = await pair(make_gateway, redis_server, prefix, fake)
    fake.hang()
    first = asyncio.ensure_future(a.run("generate", REQUEST, owner=OWNER, idempotency_key="k1", digest="d"))
    await until(lambda: fake.call_count == 1)
    repeat = asyncio.ensure_future(b.run("generate", REQUEST, owner=OWNER, idempotency_key="k1", digest="d"))
    fake.release()
    results = await asyncio.gather(first, repeat)
    assert [i.id for i in results[0].images] == [i.id for i in results[1].images]
    assert fake.call_count == 1


async def test_a_provider_rpm_holds_across_gateways(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a, b = await pair(make_gateway, redis_server, prefix, fake, rpm=2, timeout_s=5)
    await a.run("generate", REQUEST)
    await b.run("generate", REQUEST)
    started = time.monotonic()
    with pytest.raises(RateLimited) as refused:
        await a.run("generate", REQUEST)
    assert time.monotonic() - started < 2  # the window frees up in ~60 s, past the 5 s deadline: no wait
    assert "2 requests/minute" in refused.value.message and 55 < (refused.value.retry_after or 0) <= 60
    assert fake.call_count == 2


async def test_max_concurrency_holds_across_gateways(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a = await make_gateway(redis_server.url, prefix, name="a",
                           openai={"base_url": fake.base_url, "max_concurrency": 1, "timeout_s": 30})
    b = await make_gateway(redis_server.url, prefix, name="b",
                           openai={"base_url": fake.base_url, "max_concurrency": 1, "timeout_s": 1})
    fake.hang()
    holding = asyncio.ensure_future(a.run("generate", REQUEST))
    await until(lambda: fake.call_count == 1)
    with pytest.raises(RateLimited) as refused:
        await b.run("generate", REQUEST)
    assert "max_concurrency" in refused.value.message and fake.call_count == 1
    fake.release()
    await holding
    await b.run("generate", REQUEST)  # the slot was given back
    assert fake.call_count == 2


async def test_replicas_share_one_generated_signing_key_and_keep_a_configured_one(
        redis_server: RedisServer, prefix: str, make_gateway: Any) -> None:
    public = {"public_url": "http://gateway.test"}
    a = await make_gateway(redis_server.url, prefix, name="a", gateway=public)
    b = await make_gateway(redis_server.url, prefix, name="b", gateway=public)
    key = a.settings.gateway.signing_key()
    assert key and len(key) == 64 and b.settings.gateway.signing_key() == key
    mine = await make_gateway(redis_server.url, prefix, name="c",
                              gateway={**public, "url_signing_key": "configured-key-0123456789"})
    assert mine.settings.gateway.signing_key() == b"configured-key-0123456789"
