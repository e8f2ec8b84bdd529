"""A caller that goes away while its images are being stored: the images are stored anyway."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from imagegate.testing import FakeSleep

from .pipeline_support import REQUEST, Scripted, make


@pytest.mark.parametrize("cancellable", [True, False])
async def test_storing_finishes_when_the_caller_goes_away(tmp_path: Path, cancellable: bool) -> None:
    provider = Scripted(cancellable=cancellable)
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    storing, release = asyncio.Event(), asyncio.Event()
    save = gateway.storage.save

    async def gated_save(*args: Any, **kwargs: Any) -> Any:
        storing.set()
        await release.wait()
        return await save(*args, **kwargs)

    gateway.storage.save = gated_save
    try:
        task = asyncio.ensure_future(gateway.run("generate", REQUEST))
        await storing.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not provider.cancelled
        release.set()
    finally:
        await gateway.aclose()  # waits for the background work
    stored = await gateway.list()
    assert len(stored) == 1 and stored[0]["model"] == "fake-model"
