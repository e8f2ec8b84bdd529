"""The pytest plugin: fixtures for a gateway on the placeholder provider and temporary storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from ..gateway import Gateway
from ..settings import Settings
from .factories import FakeSleep, build_gateway, temp_settings


@pytest.fixture
def imagegate_settings(tmp_path: Path) -> Settings:
    """Settings whose storage root and spool are temporary folders."""
    return temp_settings(tmp_path)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    """Records back-off delays instead of sleeping."""
    return FakeSleep()


@pytest_asyncio.fixture
async def gateway(imagegate_settings: Settings, fake_sleep: FakeSleep) -> AsyncIterator[Gateway]:
    """An opened gateway with the placeholder provider and local storage; closed afterwards."""
    gw = build_gateway(imagegate_settings, sleep=fake_sleep)
    await gw.open()
    try:
        yield gw
    finally:
        await gw.aclose()
