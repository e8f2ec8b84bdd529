"""Paid-for work outlives a caller that goes away, and is waited for on close."""

from __future__ import annotations

import asyncio

import pytest

from imagegate._paid_work import PaidWork


async def test_work_continues_when_the_caller_is_cancelled_and_settle_waits_for_it() -> None:
    paid, release, done = PaidWork(), asyncio.Event(), []

    async def store() -> str:
        await release.wait()
        done.append("stored")
        return "ok"

    caller = asyncio.ensure_future(paid.finish(asyncio.ensure_future(store())))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert done == []
    release.set()
    await paid.settle()
    assert done == ["stored"]


async def test_a_caller_that_stays_gets_the_result_or_the_error() -> None:
    paid = PaidWork()

    async def fail() -> None:
        raise ValueError("storage down")

    assert await paid.finish(asyncio.ensure_future(asyncio.sleep(0, "ok"))) == "ok"
    with pytest.raises(ValueError, match="storage down"):
        await paid.finish(asyncio.ensure_future(fail()))
    await paid.settle()  # nothing left in the background
