"""The pipeline: retry policy, deadlines, verification, spooling, cancellation, events."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from imagegate import hookimpl
from imagegate._errors import (
    AuthenticationError,
    ContentFiltered,
    ImagegateError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    StorageError,
    Timeout,
    UpstreamError,
)
from imagegate._events import RequestFailed, RequestFinished, RequestStarted, RetryScheduled
from imagegate._models import ImageRequest
from imagegate._provider import ProviderCall, ProviderResult
from imagegate.testing import FakeSleep, build_gateway, opened_gateway, temp_settings

from .pipeline_support import REQUEST, BrokenStoragePlugin, Downloading, Plugin, Scripted, fake_spec, make


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.mark.parametrize("failure", [
    RateLimited("slow", retry_after=3.0), UpstreamError("502"),
])
async def test_retryable_failures_are_retried_with_backoff(tmp_path: Path, sleep: FakeSleep,
                                                           failure: ImagegateError) -> None:
    provider = Scripted([failure, failure])
    gateway, plugin = await make(tmp_path, provider, sleep)
    try:
        result = await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 3
    assert [c.attempt for c in provider.calls] == [1, 2, 3]
    assert len(sleep.delays) == 2
    if failure.retry_after:
        assert sleep.delays == [3.0, 3.0]
    retries = [e for e in plugin.events if isinstance(e, RetryScheduled)]
    assert [r.reason for r in retries] == [failure.code] * 2
    assert result.images and isinstance(plugin.events[-1], RequestFinished)
    assert plugin.events[-1].retries == 2


async def test_connection_errors_become_retried_upstream_errors(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted([aiohttp.ServerDisconnectedError()])
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 2


@pytest.mark.parametrize("failure", [
    InvalidRequest("bad", param="size"), AuthenticationError("no"), PermissionDenied("org"),
    ContentFiltered("nope"), QuotaExceeded("pay"), UpstreamError("garbage", retryable=False),
])
async def test_final_failures_are_never_retried(tmp_path: Path, sleep: FakeSleep, failure: ImagegateError) -> None:
    provider = Scripted([failure])
    gateway, plugin = await make(tmp_path, provider, sleep)
    try:
        with pytest.raises(type(failure)) as caught:
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 1 and sleep.delays == []
    assert caught.value.provider == "fake"
    failed = plugin.events[-1]
    assert isinstance(failed, RequestFailed) and failed.code == failure.code
    assert failed.estimated_usd is None and failed.actual_usd is None  # nothing was paid for


async def test_retries_stop_after_max_retries(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted([UpstreamError("x")] * 10)
    gateway, _ = await make(tmp_path, provider, sleep, providers={"fake": {"max_retries": 2}})
    try:
        with pytest.raises(UpstreamError):
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 3


async def test_retry_after_beyond_the_deadline_gives_up_at_once(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted([RateLimited("slow", retry_after=120)])
    gateway, _ = await make(tmp_path, provider, sleep, providers={"fake": {"timeout_s": 30}})
    try:
        with pytest.raises(RateLimited) as caught:
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert caught.value.retry_after == 120 and sleep.delays == [] and len(provider.calls) == 1


async def test_deadline_turns_into_timeout(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted(cancellable=True)
    provider.gate = asyncio.Event()
    gateway, _ = await make(tmp_path, provider, sleep, providers={"fake": {"timeout_s": 0.05}})
    try:
        with pytest.raises(Timeout) as caught:
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert caught.value.retryable and provider.cancelled


async def test_missing_key_fails_before_any_call(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted(key=None)
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        with pytest.raises(AuthenticationError, match="PROVIDERS__FAKE__API_KEY"):
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert provider.calls == []


async def test_invalid_request_costs_nothing_and_writes_nothing(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        for bad in (ImageRequest(prompt="", model="fake-model"), ImageRequest(prompt="x", model="fake-model", n=9),
                    ImageRequest(prompt="x", model="fake-model", params={"quality": "max"}),
                    ImageRequest(prompt="x", model="fake-model", stream=True)):
            with pytest.raises(InvalidRequest):
                await gateway.run("generate", bad)
        with pytest.raises(NotFound, match="available: fake-model, placeholder"):
            await gateway.run("generate", ImageRequest(prompt="x", model="nope"))
    finally:
        await gateway.aclose()
    assert provider.calls == []
    assert not (tmp_path / "images").exists() or not list((tmp_path / "images").rglob("img_*"))


async def test_bytes_that_are_not_the_declared_image_are_rejected(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted([b"<html>not an image</html>"])
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        with pytest.raises(UpstreamError, match="not a PNG") as caught:
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert caught.value.retryable is False


async def test_result_metadata_cost_and_read_back(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted()
    gateway, plugin = await make(tmp_path, provider, sleep)
    try:
        result = await gateway.run("generate", ImageRequest(prompt="a cat", model="fake/fake-model", n=2,
                                                            params={"quality": "high"}))
        assert result.cost.estimated_usd == pytest.approx(0.4)
        assert result.revised_prompt == "revised"
        assert len({image.id for image in result.images}) == 2
        for image in result.images:
            data = await gateway.read(image.id)
            assert hashlib.sha256(data).hexdigest() == image.sha256
            meta = await gateway.metadata(image.id)
            assert meta["provider_request_id"] == "up-1" and meta["parameters"]["quality"] == "high"
            assert Path(image.path).exists() and image.url.startswith("file://")
        started = next(e for e in plugin.events if isinstance(e, RequestStarted))
        assert started.model == "fake-model" and started.parameters == {"quality": "high"}
    finally:
        await gateway.aclose()


async def test_models_without_a_count_field_fan_out_and_say_so(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, sleep, spec=fake_spec(n_param=None))
    try:
        result = await gateway.run("generate", ImageRequest(prompt="x", model="fake-model", n=3))
    finally:
        await gateway.aclose()
    assert [c.n for c in provider.calls] == [1, 1, 1]
    assert len(result.images) == 3 and "3 calls" in result.notes[0]


async def test_storage_failure_keeps_the_paid_image_in_the_spool_and_drains(tmp_path: Path,
                                                                              sleep: FakeSleep) -> None:
    provider = Scripted()
    storage_plugin = BrokenStoragePlugin()
    config = temp_settings(tmp_path, providers={"fake": {}}, storage={"backend": "broken"})
    plugin = Plugin(provider)
    async with opened_gateway(config, ("fake", plugin), ("broken", storage_plugin), sleep=sleep) as gateway:
        with pytest.raises(StorageError) as caught:
            await gateway.run("generate", REQUEST)
        failed = [event for event in plugin.events if isinstance(event, RequestFailed)]
        assert [(e.code, e.estimated_usd) for e in failed] == [("storage_error", pytest.approx(0.1))]
        spooled = Path(caught.value.spool_path)
        assert spooled.exists() and spooled.read_bytes() == provider.data
        assert caught.value.to_dict()["spool_path"] == str(spooled)
        image_id = spooled.stem
        assert caught.value.to_dict()["image_ids"] == [image_id] and image_id in caught.value.message
        assert await gateway.read(image_id) == provider.data  # served from the spool meanwhile
        assert (await gateway.describe(image_id)).url.startswith("file://")
        assert storage_plugin.instance is not None
        storage_plugin.instance.fail = False
        assert await gateway.drain_spool() == [image_id]
        assert not spooled.exists()
        assert storage_plugin.instance.saved[image_id] == provider.data


async def cancel_mid_call(gateway: Any, provider: Scripted) -> None:
    """Start a request, cancel its caller once the provider is called, and see it cancelled."""
    task = asyncio.ensure_future(gateway.run("generate", REQUEST))
    while not provider.calls:
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancellable_work_is_cancelled_upstream(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted(cancellable=True)
    provider.gate = asyncio.Event()
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        await cancel_mid_call(gateway, provider)
        assert provider.cancelled
    finally:
        await gateway.aclose()


async def test_paid_work_is_finished_and_stored_when_the_caller_goes_away(tmp_path: Path,
                                                                           sleep: FakeSleep) -> None:
    provider = Scripted(cancellable=False)
    provider.gate = asyncio.Event()
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        await cancel_mid_call(gateway, provider)
        assert not provider.cancelled
        provider.gate.set()
    finally:
        await gateway.aclose()  # waits for the background work
    stored = await gateway.list()
    assert len(stored) == 1 and stored[0]["model"] == "fake-model"


async def test_a_failing_event_listener_does_not_break_requests(tmp_path: Path, sleep: FakeSleep) -> None:
    class Noisy:
        @hookimpl
        def track_event(self, gateway: Any, event: Any) -> None:
            raise RuntimeError("listener bug")

    config = temp_settings(tmp_path, providers={"fake": {}})
    async with opened_gateway(config, ("fake", Plugin(Scripted())), ("noisy", Noisy()), sleep=sleep) as gateway:
        result = await gateway.run("generate", REQUEST)
    assert len(result.images) == 1


async def test_shutdown_hooks_run_after_paid_work_and_before_storage_closes(
        tmp_path: Path, sleep: FakeSleep, caplog: pytest.LogCaptureFixture) -> None:
    """Each ``shutdown`` implementation runs once, sync or async, after abandoned paid work was
    stored and while storage is still open; one that raises is logged and the others still run."""
    seen: list[tuple[str, int]] = []

    class Closer:
        def __init__(self, name: str, *, fail: bool = False, is_async: bool = False) -> None:
            self.name, self.fail, self.is_async = name, fail, is_async

        @hookimpl
        def shutdown(self, gateway: Any) -> Any:
            async def note() -> None:
                seen.append((self.name, len(await gateway.list())))

            if self.fail:
                raise RuntimeError("closer bug")
            if self.is_async:
                return note()
            seen.append((self.name, -1))
            return None

    provider = Scripted(cancellable=False)
    provider.gate = asyncio.Event()
    config = temp_settings(tmp_path, providers={"fake": {}})
    gateway = build_gateway(config, ("fake", Plugin(provider)), ("broken", Closer("broken", fail=True)),
                            ("sync", Closer("sync")), ("async", Closer("async", is_async=True)), sleep=sleep)
    await gateway.open()
    await cancel_mid_call(gateway, provider)
    provider.gate.set()
    with caplog.at_level("ERROR", logger="imagegate"):
        await gateway.aclose()
    assert sorted(seen) == [("async", 1), ("sync", -1)]
    assert "shutdown of plugin broken failed" in caplog.text


async def test_middlewares_wrap_every_step_in_order(tmp_path: Path, sleep: FakeSleep) -> None:
    seen: list[tuple[str, str]] = []

    class Tracer:
        @hookimpl
        def step_middleware(self, gateway: Any) -> Any:
            async def middleware(step: Any, call_next: Any) -> Any:
                seen.append(("enter", step.kind))
                try:
                    return await call_next()
                finally:
                    seen.append(("exit", step.kind))

            return middleware

    config = temp_settings(tmp_path, providers={"fake": {}})
    gateway = build_gateway(config, ("fake", Plugin(Scripted([UpstreamError("x")]))), ("tracer", Tracer()),
                            sleep=sleep)
    await gateway.open()
    try:
        await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert seen == [("enter", "request"), ("enter", "provider_attempt"), ("exit", "provider_attempt"),
                    ("enter", "provider_attempt"), ("exit", "provider_attempt"), ("enter", "storage_write"),
                    ("exit", "storage_write"), ("exit", "request")]


async def test_estimate_prices_without_calling(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        estimate = await gateway.estimate("generate", ImageRequest(prompt="x", model="fake-model", n=3))
    finally:
        await gateway.aclose()
    assert estimate["cost"]["estimated_usd"] == pytest.approx(0.3) and provider.calls == []


async def test_config_file_models_and_aliases(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, sleep,
                            models={"fake-model-2": {"base": "fake-model", "n_max": 1}},
                            aliases={"quick": "fake-model-2"})
    try:
        spec = await gateway.resolve_model("quick")
        assert (spec.id, spec.upstream, spec.n_max, spec.provider) == ("fake-model-2", "fake-model-2", 1, "fake")
        with pytest.raises(InvalidRequest, match="1 to 1"):
            await gateway.run("generate", ImageRequest(prompt="x", model="quick", n=2))
    finally:
        await gateway.aclose()


async def test_unknown_storage_backend_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="STORAGE__BACKEND") as caught:
        build_gateway(temp_settings(tmp_path, storage={"backend": "nowhere"}))
    assert "local" in caught.value.message


async def test_a_failed_fan_out_call_cancels_the_others(tmp_path: Path, sleep: FakeSleep) -> None:
    provider = Scripted([QuotaExceeded("pay")], cancellable=True)
    gate = asyncio.Event()
    original = provider.run

    async def run(call: ProviderCall) -> ProviderResult:
        if len(provider.calls) >= 1:  # every call after the first hangs until cancelled
            provider.calls.append(call)
            try:
                await gate.wait()
            except asyncio.CancelledError:
                provider.cancelled = True
                raise
        return await original(call)

    provider.run = run  # type: ignore[method-assign]
    gateway, _ = await make(tmp_path, provider, sleep, spec=fake_spec(n_param=None))
    try:
        with pytest.raises(QuotaExceeded):
            await gateway.run("generate", ImageRequest(prompt="x", model="fake-model", n=3))
    finally:
        await gateway.aclose()
    assert provider.cancelled


@pytest.fixture
async def flaky_file(png: bytes) -> Any:
    """A loopback server whose ``/out.png`` fails with 503 ``state["failures"]`` times, then serves."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    state = {"failures": 0, "hits": 0}

    async def serve(request: web.Request) -> web.Response:
        state["hits"] += 1
        if state["failures"]:
            state["failures"] -= 1
            return web.Response(status=503)
        return web.Response(body=png, content_type="image/png")

    app = web.Application()
    app.router.add_get("/out.png", serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield state, str(server.make_url("/out.png"))
    finally:
        await server.close()


async def test_a_paid_output_is_downloaded_again_not_paid_again(tmp_path: Path, sleep: FakeSleep,
                                                                flaky_file: Any, png: bytes) -> None:
    state, url = flaky_file
    state["failures"] = 2
    provider = Downloading(url)
    own = url.rsplit("/", 1)[0]  # the fake's BASE_URL: its loopback host may serve outputs
    gateway, _ = await make(tmp_path, provider, sleep, providers={"fake": {"max_retries": 3, "base_url": own}})
    try:
        result = await gateway.run("generate", REQUEST)
        assert Path(result.images[0].path).read_bytes() == png
        assert (len(provider.calls), state["hits"], len(sleep.delays)) == (1, 3, 2)

        state["failures"] = 99
        with pytest.raises(UpstreamError) as caught:
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 2  # one call per request: the paid call was never repeated
    assert state["hits"] == 3 + 3
    assert not caught.value.retryable
    assert "HTTP 503 (3 attempts)" in caught.value.message and "paid for" in caught.value.message


async def test_no_configured_secret_leaves_in_an_error(tmp_path: Path, sleep: FakeSleep) -> None:
    """Whatever a provider puts in an error (an upstream echoing the key), the caller never sees it."""
    key = "sk-fake-SECRET-0123456789"
    provider = Scripted([InvalidRequest(f"bad request made with key {key}", param="prompt")])
    gateway, plugin = await make(tmp_path, provider, sleep, providers={"fake": {"api_key": key, "max_retries": 0}})
    try:
        with pytest.raises(InvalidRequest) as caught:
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert caught.value.message == "bad request made with key [redacted]"
    assert key not in str(caught.value) and key not in repr(caught.value)
    failed = plugin.events[-1]
    assert isinstance(failed, RequestFailed) and key not in failed.message
