"""The calling stage: attempts and retries through the one retry helper, the deadline, the RPM
slot, and paid outputs whose download is retried without calling the provider again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imagegate._calling import DOWNLOAD_ATTEMPTS
from imagegate._errors import InvalidRequest, RateLimited, Timeout, UpstreamError
from imagegate._provider import ProviderCall, ProviderImage, ProviderResult
from imagegate.testing import FakeSleep, image_bytes
from imagegate.testing.mock_http import mock_upstream
from .pipeline_support import REQUEST, Scripted, make

OUTPUT_URL = "https://cdn.upstream.example/out/1.png"


class Downloading(Scripted):
    """Answers with a URL that it downloads through ``call.download`` (as Replicate does)."""

    async def run(self, call: ProviderCall) -> ProviderResult:
        self.calls.append(call)
        return ProviderResult(images=[ProviderImage(await call.download(OUTPUT_URL), "image/png")])


async def test_retryable_failures_are_retried_with_events_and_back_off(tmp_path: Path) -> None:
    provider, sleep = Scripted([UpstreamError("502"), RateLimited("slow", retry_after=4)]), FakeSleep()
    gateway, plugin = await make(tmp_path, provider, sleep)
    try:
        result = await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert [call.attempt for call in provider.calls] == [1, 2, 3]
    assert len(result.images) == 1
    retries = [e for e in plugin.events if type(e).__name__ == "RetryScheduled"]
    assert [(e.attempt, e.reason) for e in retries] == [(1, "upstream_error"), (2, "rate_limited")]
    assert sleep.delays[1] == 4 and 0.5 <= sleep.delays[0] <= 1.0


async def test_attempts_stop_at_max_retries_plus_one(tmp_path: Path) -> None:
    provider = Scripted([UpstreamError(f"fail {i}") for i in range(5)])
    gateway, _ = await make(tmp_path, provider, FakeSleep(), providers={"fake": {"max_retries": 1}})
    try:
        with pytest.raises(UpstreamError, match="fail 1"):
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 2


async def test_a_final_error_is_not_retried(tmp_path: Path) -> None:
    provider, sleep = Scripted([InvalidRequest("the upstream refused the prompt")]), FakeSleep()
    gateway, _ = await make(tmp_path, provider, sleep)
    try:
        with pytest.raises(InvalidRequest):
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 1 and sleep.delays == []


async def test_a_retry_after_past_the_deadline_fails_without_waiting(tmp_path: Path) -> None:
    provider, sleep = Scripted([RateLimited("later", retry_after=120)]), FakeSleep()
    gateway, _ = await make(tmp_path, provider, sleep, providers={"fake": {"timeout_s": 30}})
    try:
        with pytest.raises(RateLimited):
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 1 and sleep.delays == []


async def test_a_provider_that_does_not_answer_in_time_is_a_timeout(tmp_path: Path) -> None:
    import asyncio

    provider = Scripted()
    provider.gate = asyncio.Event()  # never set
    gateway, _ = await make(tmp_path, provider, FakeSleep(), providers={"fake": {"timeout_s": 0.05}})
    try:
        with pytest.raises(Timeout, match=r"did not answer within 0.05 s \(1 attempt\(s\)\)"):
            await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()


async def test_a_paid_download_is_retried_without_calling_the_provider_again(tmp_path: Path) -> None:
    provider, sleep = Downloading(), FakeSleep()
    gateway, _ = await make(tmp_path, provider, sleep)
    data = image_bytes(8, 8)
    try:
        with mock_upstream() as upstream:
            upstream.get(OUTPUT_URL, status=503)
            upstream.get(OUTPUT_URL, status=502)
            upstream.get(OUTPUT_URL, status=200, body=data)
            result = await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 1
    assert await gateway.read(result.images[0].id) == data
    assert len(sleep.delays) == 2 and all(d <= 1.0 for d in sleep.delays)  # download back-off base 0.5 s


async def test_a_download_that_keeps_failing_is_final_and_says_it_was_paid(tmp_path: Path) -> None:
    provider = Downloading()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    try:
        with mock_upstream() as upstream:
            for _ in range(DOWNLOAD_ATTEMPTS):
                upstream.get(OUTPUT_URL, status=500)
            with pytest.raises(UpstreamError) as caught:
                await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 1  # the gateway's own retries did not repeat the paid call
    assert caught.value.retryable is False
    assert f"({DOWNLOAD_ATTEMPTS} attempts); the fake call was paid for" in caught.value.message


async def test_provider_settings_are_validated_once_per_provider(tmp_path: Path, monkeypatch: Any) -> None:
    provider = Scripted([UpstreamError("x")])
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    seen: list[str] = []
    validate = type(gateway.settings).provider

    def counting(self: Any, name: str, *args: Any) -> Any:
        seen.append(name)
        return validate(self, name, *args)

    monkeypatch.setattr(type(gateway.settings), "provider", counting)
    try:
        await gateway.run("generate", REQUEST)
        await gateway.run("generate", REQUEST)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 3 and seen == ["fake"]
