from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from imagegate._errors import RateLimited
from imagegate._limits import ProviderLimiter, SlidingWindow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        self.now += delay


async def test_call_n_plus_one_waits_for_the_rpm_window() -> None:
    clock = FakeClock()
    limiter = ProviderLimiter("p", max_concurrency=10, rpm=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        async with limiter.slot(deadline=clock.now + 600):
            pass
    assert clock.slept == []
    clock.now += 10
    async with limiter.slot(deadline=clock.now + 600):
        pass
    assert clock.slept == [pytest.approx(50.0)]  # waited until the first start left the window


async def test_rpm_wait_past_the_deadline_fails_rate_limited() -> None:
    clock = FakeClock()
    limiter = ProviderLimiter("p", max_concurrency=10, rpm=1, clock=clock, sleep=clock.sleep)
    async with limiter.slot(deadline=clock.now + 600):
        pass
    with pytest.raises(RateLimited) as caught:
        async with limiter.slot(deadline=clock.now + 5):
            pass
    assert caught.value.retry_after == pytest.approx(60.0)
    assert clock.slept == []


async def test_concurrency_slot_waits_then_fails_at_the_deadline() -> None:
    limiter = ProviderLimiter("p", max_concurrency=1, rpm=None)
    loop = asyncio.get_running_loop()
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with limiter.slot(deadline=loop.time() + 60):
            entered.set()
            await release.wait()

    task = asyncio.ensure_future(holder())
    await entered.wait()
    with pytest.raises(RateLimited, match="max_concurrency"):
        async with limiter.slot(deadline=loop.time() + 0.05):
            pass
    waiter = asyncio.ensure_future(_take(limiter, loop.time() + 60))
    await asyncio.sleep(0)
    assert not waiter.done()  # the second call waits for the slot
    release.set()
    await task
    assert await waiter == "got it"


async def _take(limiter: ProviderLimiter, deadline: float) -> str:
    async with limiter.slot(deadline):
        return "got it"



def test_sliding_window_counts_starts_in_the_last_period() -> None:
    window = SlidingWindow(2, period_s=60)
    assert window.take(0.0) == 0 and window.take(10.0) == 0
    assert window.take(20.0) == pytest.approx(40.0)  # full: the first start leaves the window at 60
    assert window.take(60.0) == 0  # the start at 0 has left; the refused one was not recorded
    assert window.take(61.0) == pytest.approx(9.0)


class CountingLimiter:
    """A limiter a plugin supplies: counts the slots it hands out."""

    def __init__(self) -> None:
        self.slots = 0

    @asynccontextmanager
    async def slot(self, deadline: float) -> AsyncIterator[None]:
        self.slots += 1
        yield


async def test_a_plugin_supplies_the_provider_limiter_and_none_keeps_the_in_process_one(tmp_path: Path) -> None:
    from imagegate import Limiter, hookimpl
    from imagegate.testing import FakeSleep, opened_gateway, temp_settings

    from .pipeline_support import REQUEST, Plugin, Scripted

    supplied = CountingLimiter()
    asked: list[tuple[str, int, int | None]] = []

    class Limits:
        @hookimpl
        def provider_limiter(self, provider: str, max_concurrency: int, rpm: int | None) -> Any:
            asked.append((provider, max_concurrency, rpm))
            return supplied if rpm == 7 else None

    assert isinstance(supplied, Limiter)
    for rpm, expected in ((7, CountingLimiter), (None, ProviderLimiter)):
        settings = temp_settings(tmp_path, providers={"fake": {"max_concurrency": 2, **({"rpm": rpm} if rpm else {})}})
        plugins = (("fake", Plugin(Scripted())), ("limits", Limits()))
        async with opened_gateway(settings, *plugins, sleep=FakeSleep()) as gateway:
            await gateway.run("generate", REQUEST)
            await gateway.run("generate", REQUEST)
        assert type(gateway.caller._limiters["fake"]) is expected
    assert asked == [("fake", 2, 7), ("fake", 2, None)]  # once per provider and gateway
    assert supplied.slots == 2
