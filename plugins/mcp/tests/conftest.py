"""Fixtures: the fake provider plugins of ``support.py`` registered in-process, and the MCP server
over streamable HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from imagegate._gateway import Gateway
from imagegate.testing.factories import opened_gateway, temp_settings

from .support import FakeProvidersPlugin, FakeUpstream, RunningServer


@pytest.fixture
def upstream() -> FakeUpstream:
    return FakeUpstream()


@pytest.fixture
def api_keys() -> list[str]:
    return []


@pytest.fixture
def public_url() -> str | None:
    return None


@pytest.fixture
def trusted_proxies() -> list[str]:
    """``GATEWAY__TRUSTED_PROXIES`` (parametrize to change)."""
    return []


@pytest.fixture
def mcp_options() -> dict[str, Any]:
    """Extra ``MCP__*`` settings for one test (parametrize to change)."""
    return {}


@pytest_asyncio.fixture
async def mcp_gateway(tmp_path: Path, upstream: FakeUpstream, api_keys: list[str], public_url: str | None,
                      mcp_options: dict[str, Any], trusted_proxies: list[str]) -> AsyncIterator[Gateway]:
    settings = temp_settings(
        tmp_path, gateway={"api_keys": api_keys, "public_url": public_url, "trusted_proxies": trusted_proxies},
        input={"allowed_roots": [str(tmp_path / "inputs")]},
        providers={"openai": {"max_retries": 0}, "replicate": {"max_retries": 0}},
        mcp={"progress_interval_s": 0.2, "preview_max_bytes": 4096, **mcp_options})
    async with opened_gateway(settings, ("fake-providers", FakeProvidersPlugin(upstream))) as gateway:
        yield gateway


@pytest_asyncio.fixture
async def http_server(mcp_gateway: Gateway) -> AsyncIterator[RunningServer]:
    """The streamable-HTTP app on a free 127.0.0.1 port, stopped at teardown even on failure."""
    from imagegate_mcp.testing import serve_streamable_http

    async with serve_streamable_http(mcp_gateway) as url:
        yield RunningServer(url, mcp_gateway)
