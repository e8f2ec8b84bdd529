"""Virtual keys with ``JOBS__BACKEND=redis``: a key made anywhere (a gateway, ``imagegate keys``)
works on every gateway, its budget and rate hold across all of them, a revocation reaches them
within the key cache's time, and a lost Redis fails key checks ``unavailable`` (503)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from imagegate import ImageRequest, QuotaExceeded, RateLimited, Unavailable
from imagegate._keys import new_key, period_of
from imagegate.testing import add_virtual_key, run_cli
from imagegate_http.app import create_app
from imagegate_openai.testing import FakeOpenAI
from imagegate_redis.key_store import RedisKeyStore
from imagegate_redis.testing import RedisServer

REQUEST = ImageRequest(prompt="a lighthouse", model="gpt-image-2", size="1024x1024", params={"quality": "low"})


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_key="sk-test") as server:
        yield server


async def pair(make_gateway: Any, server: RedisServer, prefix: str, fake: FakeOpenAI) -> tuple[Any, Any]:
    a = await make_gateway(server.url, prefix, name="a", openai={"base_url": fake.base_url})
    b = await make_gateway(server.url, prefix, name="b", openai={"base_url": fake.base_url})
    return a, b



async def test_a_key_made_on_one_gateway_works_on_another_until_revoked(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a, b = await pair(make_gateway, redis_server, prefix, fake)
    assert isinstance(a.keys.store, RedisKeyStore) and b.keys.rates is b.keys.store
    secret = await add_virtual_key(a, "team", admin=True)
    b.keys._clock = lambda: 0.0  # the key cache's clock: no waiting for it to expire
    caller = await b.keys.identify(secret)
    assert caller is not None and caller.key.name == "team" and caller.admin
    assert await b.keys.any()
    await a.keys.store.revoke("team")
    b.keys._clock = lambda: 1.0
    assert await b.keys.identify(secret) is not None  # still cached: a revocation takes up to 5 s
    b.keys._clock = lambda: 6.0
    assert await b.keys.identify(secret) is None
    assert await b.keys.identify(new_key()) is None


async def test_a_key_budget_holds_across_gateways(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a, b = await pair(make_gateway, redis_server, prefix, fake)
    estimate = (await a.run("generate", REQUEST)).cost.estimated_usd
    assert estimate
    secret = await add_virtual_key(a, "team", budget_usd=estimate * 2.5, budget_period="day")
    callers = [await a.keys.identify(secret), await b.keys.identify(secret)]
    runs = await asyncio.gather(*(gateway.run("generate", REQUEST, caller=caller)
                                  for gateway, caller in [(a, callers[0]), (b, callers[1])] * 4),
                                return_exceptions=True)
    refused = [run for run in runs if isinstance(run, BaseException)]
    assert len(refused) == 6 and all(isinstance(error, QuotaExceeded) for error in refused)
    assert fake.call_count == 3  # the first, unkeyed call and two within the budget
    [row] = await b.keys.store.usage("team")
    assert (row.spent_usd, row.reserved_usd, row.requests) == (pytest.approx(estimate * 2), 0.0, 2)


async def test_a_key_rate_holds_across_gateways(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    a, b = await pair(make_gateway, redis_server, prefix, fake)
    secret = await add_virtual_key(a, "team", rpm=2)
    on_a, on_b = await a.keys.identify(secret), await b.keys.identify(secret)
    await a.run("generate", REQUEST, caller=on_a)
    await b.run("generate", REQUEST, caller=on_b)
    for gateway, caller in ((a, on_a), (b, on_b)):
        with pytest.raises(RateLimited) as slowed:
            await gateway.run("generate", REQUEST, caller=caller)
        assert "limited to 2 requests a minute" in slowed.value.message
        assert slowed.value.retry_after is not None and 0 < slowed.value.retry_after <= 60
    assert fake.call_count == 2


async def test_key_checks_fail_unavailable_while_redis_is_lost(
        own_redis: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI) -> None:
    gateway = await make_gateway(own_redis.url, prefix, openai={"base_url": fake.base_url})
    secret = await add_virtual_key(gateway, "team", budget_usd=5.0)
    caller = await gateway.keys.identify(secret)
    own_redis.stop()
    for attempt in (lambda: gateway.keys.identify(new_key()), lambda: gateway.run("generate", REQUEST, caller=caller),
                    lambda: gateway.keys.store.usage()):
        with pytest.raises(Unavailable) as lost:
            await attempt()
        assert lost.value.http_status == 503 and lost.value.retryable
        assert f"REDIS__URL={own_redis.url}" in lost.value.message
    async with TestClient(TestServer(create_app(gateway))) as http:
        response = await http.post("/v1/images/generations", json={"model": "gpt-image-2", "prompt": "a kite"},
                                   headers={"Authorization": f"Bearer {new_key()}"})
        error = (await response.json())["error"]
    assert response.status == 503 and (error["code"], error["retryable"]) == ("unavailable", True)
    assert fake.call_count == 0
    own_redis.start()  # same port, empty: keys are gone with the data, key checks answer again
    assert await gateway.keys.identify(new_key()) is None


async def test_the_keys_cli_keeps_keys_in_redis(
        redis_server: RedisServer, prefix: str, make_gateway: Any, fake: FakeOpenAI, tmp_path: Any) -> None:
    env = {"REDIS__URL": redis_server.url, "REDIS__PREFIX": prefix, "JOBS__BACKEND": "redis",
           "XDG_DATA_HOME": str(tmp_path / "cli-data")}
    made = await run_cli(env, "keys", "create", "--name", "team-a", "--budget-usd", "5", "--rpm", "3", "--json")
    assert made.returncode == 0, made.stderr
    secret = made.json()["key"]
    gateway = await make_gateway(redis_server.url, prefix, openai={"base_url": fake.base_url})
    caller = await gateway.keys.identify(secret)  # a server on the same Redis accepts it
    assert caller is not None and (caller.key.budget_usd, caller.key.rpm) == (5.0, 3)
    await gateway.run("generate", REQUEST, caller=caller)
    listed = await run_cli(env, "keys", "list", "--json", secrets=[secret])
    [entry] = listed.json()
    assert (entry["name"], entry["budget_usd"], entry["revoked_at"]) == ("team-a", 5.0, None)
    [row] = (await run_cli(env, "keys", "usage", "team-a", "--json")).json()
    assert (row["period"], row["requests"], row["reserved_usd"]) == (period_of("month"), 1, 0.0)
    assert row["spent_usd"] > 0
    again = await run_cli(env, "keys", "create", "--name", "team-a", "--json")
    assert again.returncode == 1 and again.json()["error"]["param"] == "name"
    assert (await run_cli(env, "keys", "revoke", "team-a")).returncode == 0
    gateway.keys._clock = lambda: 1e9  # past the key cache's time
    assert await gateway.keys.identify(secret) is None
    missing = await run_cli(env, "keys", "revoke", "nobody", "--json")
    assert missing.returncode == 1 and missing.json()["error"]["code"] == "not_found"
