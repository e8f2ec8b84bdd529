"""Job webhooks over HTTP: a real receiver on 127.0.0.1 (allowed by GATEWAY__WEBHOOK_ALLOW_HOSTS)
gets the job as GET answers it, signed the Standard Webhooks way (checked here independently);
a failing receiver is retried; targets that are not allowed are refused before any upstream call."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from imagegate._webhooks import sign
from imagegate.testing import image_bytes

from .jobs_support import ASYNC, OPENAI_KEY, get_json, post_json

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


@dataclass
class Receiver:
    """A webhook receiver answering ``statuses`` in turn (then 200), recording every delivery."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with self.arrived:
            self.received.append((dict(request.headers), body))
            self.arrived.notify_all()
        await self.hold.wait()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(30), self.arrived:
            await self.arrived.wait_for(lambda: len(self.received) >= count)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    found.hold.set()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield found
    finally:
        found.hold.set()
        await runner.cleanup()


@pytest.fixture
async def hooked(serve: Callable[..., Awaitable[Any]]) -> Any:
    served = await serve(gateway={"webhook_secret": SECRET, "webhook_allow_hosts": "127.0.0.1"})
    served.gateway.webhooks.first_delay_s = 0.0  # retries at once: the back-off is tested below
    return served


def verify(headers: dict[str, str], body: bytes) -> None:
    """The Standard Webhooks check, written from the specification (not the gateway's code)."""
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert abs(time.time() - int(headers["webhook-timestamp"])) < 300
    assert any(hmac.compare_digest(f"v1,{expected}", given) for given in headers["webhook-signature"].split(" "))


def test_the_signature_matches_the_standard_webhooks_example() -> None:
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}') == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")


@pytest.mark.parametrize("operation", ["generations", "variations"])
async def test_the_receiver_gets_the_signed_job_as_get_answers_it(hooked: Any, receiver: Receiver,
                                                                  operation: str) -> None:
    body = {"model": "placeholder", "size": "64x64", "response_format": "url", "webhook_url": receiver.url}
    if operation == "generations":
        body["prompt"] = "a bell"
    image = image_bytes() if operation == "variations" else None  # webhook_url as a multipart field
    async with aiohttp.ClientSession(hooked.base_url) as http:
        status, headers, job = await post_json(http, operation, body, ASYNC, image)
        assert status == 202 and job["webhook_url"] == receiver.url
        await receiver.wait_for(1)
        _, polled = await get_json(http, headers["Location"])
    [(sent_headers, sent)] = receiver.received
    verify(sent_headers, sent)
    assert sent_headers["webhook-id"] == f"msg_{job['id']}"
    assert sent_headers["Content-Type"] == "application/json"
    delivered = json.loads(sent)
    assert delivered["id"] == job["id"] and delivered["status"] == "succeeded"
    assert delivered["result"]["imagegate"]["images"] == polled["result"]["imagegate"]["images"]
    assert "sig=" in delivered["result"]["data"][0]["url"] and "owner" not in delivered


async def test_a_failing_receiver_is_retried(hooked: Any, receiver: Receiver) -> None:
    receiver.statuses = [500]
    body = {"model": "placeholder", "prompt": "retry me", "webhook_url": receiver.url}
    async with aiohttp.ClientSession(hooked.base_url) as http:
        status, _, answer = await post_json(http, "generations", body, {})  # a sync request may name one too
        assert status == 200 and answer["data"][0]["b64_json"]
        await receiver.wait_for(2)
    first, second = receiver.received
    assert first[0]["webhook-id"] == second[0]["webhook-id"] and first[1] == second[1]
    verify(*first)
    verify(*second)
    assert json.loads(second[1])["result"]["data"][0]["b64_json"] == answer["data"][0]["b64_json"]


async def test_retries_back_off_exponentially_and_stop(hooked: Any, receiver: Receiver) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    webhooks = hooked.gateway.webhooks
    webhooks._sleep, webhooks.first_delay_s = record, 1.0
    receiver.statuses = [503] * 10
    async with aiohttp.ClientSession(hooked.base_url) as http:
        await post_json(http, "generations", {"model": "placeholder", "prompt": "x", "webhook_url": receiver.url}, {})
        await receiver.wait_for(webhooks.max_attempts)
    await webhooks.aclose()
    assert waits == [1.0, 2.0, 4.0, 8.0] and len(receiver.received) == 5


async def test_closing_the_gateway_awaits_deliveries_in_flight(hooked: Any, receiver: Receiver) -> None:
    receiver.hold.clear()
    async with aiohttp.ClientSession(hooked.base_url) as http:
        await post_json(http, "generations", {"model": "placeholder", "prompt": "x", "webhook_url": receiver.url}, {})
    await receiver.wait_for(1)
    closing = asyncio.ensure_future(hooked.gateway.webhooks.aclose())
    for _ in range(20):  # let it run as far as it can without the receiver's answer
        await asyncio.sleep(0)
    assert not closing.done() and receiver.received
    receiver.hold.set()
    await closing


@pytest.fixture
async def guarded(serve: Callable[..., Awaitable[Any]], fake_openai: Any) -> Any:  # noqa: F811
    """The gateway with OpenAI faked and a secret, but no host allowed beyond public https ones."""
    import imagegate_openai

    return await serve(gateway={"webhook_secret": SECRET}, plugins=[(imagegate_openai, "openai")],
                       providers={"openai": {"api_key": OPENAI_KEY, "base_url": fake_openai.base_url}})


@pytest.mark.parametrize("target", ["http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://10.1.2.3/x",
                                    "https://[::1]/x", "https://localhost/x", "ftp://example.com/x",
                                    "not a url"])
@pytest.mark.parametrize("headers", [ASYNC, {}], ids=["async", "sync"])
async def test_a_target_that_is_not_allowed_is_refused_before_any_call(
        guarded: Any, fake_openai: Any, target: str, headers: dict[str, str]) -> None:  # noqa: F811
    body = {"model": "gpt-image-2", "prompt": "x", "webhook_url": target}
    async with aiohttp.ClientSession(guarded.base_url) as http:
        status, _, error = await post_json(http, "generations", body, headers)
    assert status == 400 and error["error"]["param"] == "webhook_url"
    assert fake_openai.calls == [] and await guarded.gateway.jobs.list("local", 10) == []


async def test_a_webhook_without_a_secret_is_refused_naming_the_setting(
        serve: Callable[..., Awaitable[Any]], receiver: Receiver) -> None:
    served = await serve(gateway={"webhook_allow_hosts": "127.0.0.1"})
    async with aiohttp.ClientSession(served.base_url) as http:
        status, _, error = await post_json(http, "generations", {"model": "placeholder", "prompt": "x",
                                                             "webhook_url": receiver.url}, ASYNC)
    assert status == 400 and error["error"]["param"] == "webhook_url"
    assert "GATEWAY__WEBHOOK_SECRET" in error["error"]["message"]
    assert receiver.received == []
