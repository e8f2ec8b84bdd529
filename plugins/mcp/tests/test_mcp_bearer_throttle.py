"""MCP streamable HTTP shares the HTTP front-end's bearer check (imagegate.bearer): an address
that keeps sending wrong keys is answered 429 + Retry-After without its key being checked."""

from __future__ import annotations

import aiohttp
import pytest

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
