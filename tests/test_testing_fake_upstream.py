"""``imagegate.testing.FakeUpstream``: recorded calls, scripted failures, hangs, keys, schema checks."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from imagegate.testing import FakeUpstream, ReceivedCall
from imagegate.testing.fake_upstream import CALL_KEY


class FakeEcho(FakeUpstream):
    """Echoes what it received; a ``size`` other than WxH breaks its (tiny) schema."""

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/echo", self.echo)

    async def echo(self, request: web.Request) -> web.Response:
        call = request[CALL_KEY]
        return self.json(200, {"body": call.body, "parts": [p.name for p in call.form]})

    def problems_in(self, call: ReceivedCall) -> list[str]:
        size = call.body.get("size") if isinstance(call.body, dict) else None
        return [] if size is None or "x" in str(size) else [f"size: {size!r} is not WxH"]


async def _post(fake: FakeUpstream, key: str = "k", **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.base_url}/echo", headers={"Authorization": f"Bearer {key}"},
                                **kwargs) as response:
            return response.status, await response.json()


async def test_records_calls_without_the_credential() -> None:
    async with FakeEcho(api_key="k") as fake:
        status, body = await _post(fake, json={"prompt": "p"})
    assert (status, body["body"]) == (200, {"prompt": "p"})
    (call,) = fake.calls
    assert (call.method, call.path, call.body, call.authorized) == ("POST", "/v1/echo", {"prompt": "p"}, True)
    assert "Authorization" not in call.headers and "authorization" not in call.headers


async def test_multipart_parts_are_recorded() -> None:
    form = aiohttp.FormData()
    form.add_field("prompt", "p")
    form.add_field("image[]", b"\x89PNG", filename="a.png", content_type="image/png")
    async with FakeEcho() as fake:
        status, body = await _post(fake, data=form)
    assert status == 200 and body["parts"] == ["prompt", "image[]"]
    part = fake.calls[0].form[1]
    assert (part.value, part.filename, part.content_type) == (b"\x89PNG", "a.png", "image/png")


async def test_a_wrong_key_is_refused_like_the_api() -> None:
    async with FakeEcho(api_key="right") as fake:
        status, body = await _post(fake, key="wrong", json={})
    assert status == 401 and "API key" in body["error"]["message"]
    assert fake.calls[0].authorized is False


async def test_scripted_failures_apply_in_order_and_by_path() -> None:
    async with FakeEcho() as fake:
        fake.fail_with(503, {"error": "busy"}, {"Retry-After": "3"}, times=2)
        fake.fail_with(429, {"error": "slow"}, path="/other")
        answers = [await _post(fake, json={}) for _ in range(3)]
    assert [status for status, _ in answers] == [503, 503, 200]
    assert fake.call_count == 3


async def test_hang_holds_calls_until_released() -> None:
    async with FakeEcho() as fake:
        fake.hang()
        task = asyncio.ensure_future(_post(fake, json={"n": 1}))
        while fake.call_count == 0:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert not task.done() and fake.hanging
        fake.release()
        assert (await task)[0] == 200


async def test_calls_held_at_once_are_counted() -> None:
    async with FakeEcho() as fake:
        fake.hang()
        tasks = [asyncio.ensure_future(_post(fake, json={"n": n})) for n in range(3)]
        while fake.call_count < 3:
            await asyncio.sleep(0.01)
        assert fake.in_flight == 3
        fake.release()
        assert [status for status, _ in await asyncio.gather(*tasks)] == [200] * 3
        fake.latency_s = 0.5
        task = asyncio.ensure_future(_post(fake, json={"n": 4}))
        while fake.call_count < 4:
            await asyncio.sleep(0.01)
        assert fake.in_flight == 1 and not task.done()  # received, answered only after its latency
        assert (await task)[0] == 200
    assert fake.in_flight == 0 and fake.most_in_flight == 3


async def test_schema_problems_are_collected_and_strict_mode_refuses() -> None:
    async with FakeEcho() as fake:
        assert (await _post(fake, json={"size": "big"}))[0] == 200
    assert fake.schema_errors == ["POST /v1/echo: size: 'big' is not WxH"]
    with pytest.raises(AssertionError, match="is not WxH"):
        fake.assert_valid()
    async with FakeEcho(strict_schema=True) as strict:
        status, body = await _post(strict, json={"size": "big"})
    assert status == 400 and "not WxH" in body["error"]["message"]


async def test_the_port_is_free_again_after_stop() -> None:
    async with FakeEcho() as fake:
        port = fake.port
        assert port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nothing listens any more


class FakeWithCdn(FakeEcho):
    """Answers errors as problem JSON and serves files from a public ``/cdn/`` path."""

    public_prefixes = ("/cdn/",)
    error_content_type = "application/problem+json"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        super().add_routes(router)
        router.add_get("/cdn/{name}", self.file)

    async def file(self, request: web.Request) -> web.Response:
        return web.Response(body=b"bytes", content_type="image/png")


async def test_public_paths_skip_the_key_and_scripted_failures() -> None:
    async with FakeWithCdn(api_key="right") as fake, aiohttp.ClientSession() as session:
        fake.fail_with(503, {"detail": "busy"})
        async with session.get(f"http://127.0.0.1:{fake.port}/cdn/a.png") as response:
            assert (response.status, await response.read()) == (200, b"bytes")
        status, _ = await _post(fake, key="right", json={})
    assert status == 503  # the failure was kept for the API call
    assert [(c.path, c.authorized) for c in fake.calls] == [("/cdn/a.png", False), ("/v1/echo", True)]


async def test_errors_carry_the_error_content_type() -> None:
    async with FakeWithCdn(api_key="right") as fake, aiohttp.ClientSession() as session:
        fake.fail_with(429, {"detail": "slow"})
        fake.fail_with(200, {"ok": True}, path="/v1/echo")
        url = f"{fake.base_url}/echo"
        answers = []
        for key in ("right", "right", "wrong"):
            async with session.post(url, json={}, headers={"Authorization": f"Bearer {key}"}) as response:
                answers.append((response.status, response.content_type))
    assert answers == [(429, "application/problem+json"), (200, "application/json"),
                       (401, "application/problem+json")]
