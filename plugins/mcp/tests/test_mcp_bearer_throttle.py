"""MCP streamable HTTP shares the HTTP front-end's bearer check (imagegate.bearer): an address
that keeps sending wrong keys is answered 429 + Retry-After without its key being checked. The
address is the peer's, or the client a trusted proxy (GATEWAY__TRUSTED_PROXIES) names."""

from __future__ import annotations

import aiohttp
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from .support import RunningServer

KEY = "sekrit-key"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.mark.parametrize("api_keys", [[KEY]])
async def test_failed_keys_are_throttled_per_address(http_server: RunningServer) -> None:
    failures = http_server.gateway.settings.gateway.auth_max_failures
    async with aiohttp.ClientSession() as session:
        for attempt in range(failures):
            headers = {"Authorization": f"Bearer guess-{attempt}"}
            async with session.post(http_server.url, json=PING, headers=headers) as response:
                assert response.status == 401
                assert (await response.json())["error"]["code"] == "authentication"
        headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json, text/event-stream"}
        async with session.post(http_server.url, json=PING, headers=headers) as response:
            assert response.status == 429
            assert int(response.headers["Retry-After"]) >= 1
            error = (await response.json())["error"]
            assert error["code"] == "rate_limited" and error["retryable"] is True and KEY not in error["message"]


async def _status(session: aiohttp.ClientSession, url: str, key: str, forwarded_for: str) -> int:
    headers = {"Authorization": f"Bearer {key}", "X-Forwarded-For": forwarded_for,
               "Accept": "application/json, text/event-stream"}
    async with session.post(url, json=PING, headers=headers) as response:
        return response.status


@pytest.mark.parametrize("api_keys", [[KEY]])
async def test_an_untrusted_peers_forwarded_for_is_ignored(http_server: RunningServer) -> None:
    # 127.0.0.1 is no trusted proxy here (uvicorn's own default would trust it)
    failures = http_server.gateway.settings.gateway.auth_max_failures
    async with aiohttp.ClientSession() as session:
        tries = [await _status(session, http_server.url, f"guess-{n}", f"203.0.113.{n}") for n in range(failures)]
        assert tries == [401] * failures
        assert await _status(session, http_server.url, KEY, "198.51.100.1") == 429


@pytest.mark.parametrize(("api_keys", "trusted_proxies"), [([KEY], ["127.0.0.1"])])
async def test_clients_behind_a_trusted_proxy_are_counted_apart(http_server: RunningServer) -> None:
    failures = http_server.gateway.settings.gateway.auth_max_failures
    async with aiohttp.ClientSession() as session:
        tries = [await _status(session, http_server.url, f"guess-{n}", f"192.0.2.{n}, 203.0.113.9")
                 for n in range(failures + 1)]
        assert tries == [401] * failures + [429]  # the spoofed left-most entries change nothing
    # another client behind the same proxy is not locked out
    headers = {"Authorization": f"Bearer {KEY}", "X-Forwarded-For": "203.0.113.10"}
    async with (create_mcp_http_client(headers=headers) as http,
                Client(streamable_http_client(http_server.url, http_client=http)) as client):
        assert (await client.list_tools()).tools
