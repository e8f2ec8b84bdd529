"""Two gateways' HTTP front-ends on one Redis stand for two replicas behind a load balancer: the
HTTP rate (``GATEWAY__RATE_LIMIT_RPM``) and the failed-key lockout hold for both together, per client
named by the trusted proxy, and a lost Redis answers them ``unavailable``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from imagegate._job_runs import owner_of
from imagegate._keys import VirtualKey, key_digest
from imagegate_http.app import create_app
from imagegate_redis.testing import RedisServer

KEY = "sk-gateway-key-0123456789"
PROXY = {"trusted_proxies": ["127.0.0.1"]}  # the test clients connect from 127.0.0.1, standing for nginx


@pytest.fixture
async def clients() -> AsyncIterator[Any]:
    """``await serve(gateway, ...)``: a test client of each gateway's HTTP app, closed after."""
    async with AsyncExitStack() as stack:

        async def serve(*gateways: Any) -> list[TestClient]:
            return [await stack.enter_async_context(TestClient(TestServer(create_app(g)))) for g in gateways]

        yield serve


async def replicas(make_gateway: Any, server: RedisServer, prefix: str, **gateway: Any) -> tuple[Any, Any]:
    return (await make_gateway(server.url, prefix, name="a", gateway=gateway),
            await make_gateway(server.url, prefix, name="b", gateway=gateway))


async def statuses(client: TestClient, *, key: str = KEY, forwarded_for: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    async with client.get("/v1/models", headers=headers) as response:
        return response.status


async def test_the_http_rate_holds_for_the_replicas_together(
        redis_server: RedisServer, prefix: str, make_gateway: Any, clients: Any) -> None:
    a, b = await replicas(make_gateway, redis_server, prefix, api_keys=[KEY, "second-key"], rate_limit_rpm=3)
    on_a, on_b = await clients(a, b)
    assert [await statuses(client) for client in (on_a, on_b, on_a)] == [200, 200, 200]
    for client in (on_b, on_a):
        async with client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}) as response:
            assert response.status == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
            error = (await response.json())["error"]
            assert "GATEWAY__RATE_LIMIT_RPM" in error["message"] and error["code"] == "rate_limited"
    assert await statuses(on_b, key="second-key") == 200  # each key has its own window


async def test_the_http_rate_never_takes_a_virtual_keys_own_window(
        redis_server: RedisServer, prefix: str, make_gateway: Any, clients: Any) -> None:
    a, b = await replicas(make_gateway, redis_server, prefix, api_keys=[KEY], rate_limit_rpm=1)
    # a virtual key may be named like the owner the HTTP rate counts a configured key under
    await a.keys.store.add(VirtualKey(name=owner_of(KEY), digest=key_digest("igk_x"), hint="igk_x", rpm=1))
    on_a, on_b = await clients(a, b)
    assert [await statuses(on_a), await statuses(on_b)] == [200, 429]  # the HTTP rate, for both replicas
    assert await b.keys.rates.take_start(owner_of(KEY), 1) == 0  # the virtual key's --rpm window is its own


async def test_the_failed_key_lockout_holds_for_the_replicas_together_per_forwarded_client(
        redis_server: RedisServer, prefix: str, make_gateway: Any, clients: Any) -> None:
    a, b = await replicas(make_gateway, redis_server, prefix, api_keys=[KEY], auth_max_failures=3, **PROXY)
    on_a, on_b = await clients(a, b)
    tries = [await statuses(client, key=f"sk-guess-{n}", forwarded_for="203.0.113.9")
             for n, client in enumerate((on_a, on_b, on_a, on_b))]
    assert tries == [401, 401, 401, 429]  # three failures spread over two replicas lock the client out
    for client in (on_a, on_b):
        async with client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}",
                                                     "X-Forwarded-For": "192.0.2.1, 203.0.113.9"}) as response:
            assert response.status == 429  # the right key too, whatever the client writes in front
            assert "GATEWAY__AUTH_MAX_FAILURES" in (await response.json())["error"]["message"]
    assert await statuses(on_b, forwarded_for="203.0.113.10") == 200  # another client is not locked out
    assert await statuses(on_a) == 200  # nor the proxy itself


async def test_a_lost_redis_fails_the_key_check_unavailable(
        own_redis: RedisServer, prefix: str, make_gateway: Any, clients: Any) -> None:
    gateway = await make_gateway(own_redis.url, prefix, gateway={"api_keys": [KEY], **PROXY})
    [client] = await clients(gateway)
    assert await statuses(client) == 200
    own_redis.stop()
    async with client.get("/v1/models", headers={"Authorization": "Bearer sk-guess"}) as response:
        error = (await response.json())["error"]
    assert response.status == 503 and (error["code"], error["retryable"]) == ("unavailable", True)
    assert "checking an address's failed API key attempts" in error["message"]
