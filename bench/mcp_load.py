"""A bounded load generator for an MCP server over streamable HTTP: ``tools/call`` to result.

A small JSON-RPC client on plain aiohttp (the SDK client would cost the load generator more CPU
than the calls it measures). Before the clock starts, each of the ``concurrency`` workers opens its
own session as a client does: ``initialize`` (the answer's ``Mcp-Session-Id`` header names the
session), then ``notifications/initialized``. Timed: each worker then sends ``tools/call`` requests
(``Accept: application/json, text/event-stream``, the session and protocol-version headers) and
reads the whole answer, a JSON body or an SSE stream whose ``message`` event carries the result.
A call counts as ok when that result has ``isError: false``. Sessions are closed (``DELETE``) at
the end. The report has the shape of :func:`bench.load.run_load`'s.

``python -m bench.mcp_load http://127.0.0.1:8000/mcp --count 50 -c 8``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from typing import Any

import orjson
from aiohttp import ClientSession, ClientTimeout, TCPConnector

from bench.load import percentile

PROTOCOL_VERSION = "2025-06-18"
ACCEPT = "application/json, text/event-stream"
GENERATE = {"model": "gpt-image-2.6-sunburst", "prompt": "a benchmark image", "deliver": "link"}


class McpError(Exception):
    """A JSON-RPC error, an ``isError`` result or an unexpected answer; ``kind`` keys the error count."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def answer_of(body: bytes, content_type: str, request_id: int) -> dict[str, Any]:
    """The JSON-RPC message answering ``request_id`` in a JSON body or an SSE stream."""
    if content_type.startswith("application/json"):
        messages = [orjson.loads(body)]
    else:
        messages = [orjson.loads(line[5:]) for line in body.splitlines() if line.startswith(b"data:")
                    and line[5:].strip()]
    for message in messages:
        if isinstance(message, dict) and message.get("id") == request_id:
            return message
    raise McpError("no_answer")


class McpSession:
    """One MCP session over streamable HTTP."""

    def __init__(self, http: ClientSession, url: str, headers: dict[str, str] | None = None) -> None:
        self.http = http
        self.url = url
        self.headers = {"Accept": ACCEPT, "Content-Type": "application/json", **(headers or {})}
        self._ids = itertools.count(1)

    async def _post(self, message: dict[str, Any]) -> tuple[int, bytes, str, Any]:
        async with self.http.post(self.url, data=orjson.dumps(message), headers=self.headers) as resp:
            return resp.status, await resp.read(), resp.headers.get("Content-Type", ""), resp.headers

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request; its ``result`` (raises :class:`McpError` on an error)."""
        request_id = next(self._ids)
        status, body, content_type, _ = await self._post(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        if status != 200:
            raise McpError(f"http_{status}")
        message = answer_of(body, content_type, request_id)
        if "result" not in message:
            raise McpError("jsonrpc_error")
        return message["result"]

    async def open(self) -> McpSession:
        """``initialize`` then ``notifications/initialized``."""
        request_id = next(self._ids)
        status, body, content_type, headers = await self._post({
            "jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": {
                "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                "clientInfo": {"name": "imagegate-bench", "version": "0"}}})
        if status != 200:
            raise McpError(f"initialize: http_{status}")
        result = answer_of(body, content_type, request_id)["result"]
        if "mcp-session-id" in headers:
            self.headers["Mcp-Session-Id"] = headers["mcp-session-id"]
        self.headers["Mcp-Protocol-Version"] = result["protocolVersion"]
        async with self.http.post(self.url, data=orjson.dumps(
                {"jsonrpc": "2.0", "method": "notifications/initialized"}), headers=self.headers) as resp:
            await resp.read()
            if resp.status not in (200, 202):
                raise McpError(f"initialized: http_{resp.status}")
        return self

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """``tools/call``; the result (raises :class:`McpError` ``tool_error`` when ``isError``)."""
        result = await self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise McpError("tool_error")
        return result

    async def close(self) -> None:
        """End the session (``DELETE``); errors are ignored."""
        if "Mcp-Session-Id" in self.headers:
            with contextlib.suppress(Exception):
                async with self.http.delete(self.url, headers=self.headers) as resp:
                    await resp.read()


async def run_mcp_load(url: str, *, tool: str = "generate_image", arguments: dict[str, Any] | None = None,
                       count: int, concurrency: int, time_limit_s: float, headers: dict[str, str] | None = None,
                       request_timeout_s: float = 60.0) -> dict[str, Any]:
    """Open ``concurrency`` sessions, then call ``tool`` at most ``count`` times; the report."""
    args = dict(GENERATE if arguments is None else arguments)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    blocks = 0
    issued = 0

    async def worker(session: McpSession, deadline: float) -> None:
        nonlocal issued, blocks
        while issued < count and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                result = await session.call_tool(tool, args)
            except McpError as exc:
                errors[exc.kind] = errors.get(exc.kind, 0) + 1
                continue
            except Exception as exc:  # noqa: BLE001 - every failure is a counted error
                key = type(exc).__name__
                errors[key] = errors.get(key, 0) + 1
                continue
            latencies.append(time.perf_counter() - t0)
            blocks += len(result.get("content") or ())

    connector = TCPConnector(limit=concurrency, force_close=False)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=request_timeout_s)) as http:
        sessions = [await McpSession(http, url, headers).open() for _ in range(concurrency)]
        try:
            started = time.perf_counter()
            await asyncio.gather(*(worker(s, started + time_limit_s) for s in sessions))
            wall = time.perf_counter() - started
        finally:
            for s in sessions:
                await s.close()
    latencies.sort()
    ms = [v * 1000 for v in latencies]
    return {
        "url": url, "tool": tool, "arguments": args, "concurrency": concurrency, "count_limit": count,
        "time_limit_s": time_limit_s, "requests": issued, "ok": len(latencies), "errors": errors,
        "error_count": sum(errors.values()), "wall_s": round(wall, 4),
        "throughput_rps": round(len(latencies) / wall, 2) if wall else None,
        "latency_ms": {"p50": _r(percentile(ms, 50)), "p90": _r(percentile(ms, 90)),
                       "p99": _r(percentile(ms, 99)), "max": _r(ms[-1] if ms else None),
                       "mean": _r(sum(ms) / len(ms) if ms else None)},
        "content_blocks": blocks,
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def main() -> None:
    """Command-line entry: print the report as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url", help="the MCP endpoint, e.g. http://127.0.0.1:8000/mcp")
    p.add_argument("--tool", default="generate_image")
    p.add_argument("--arguments", default=orjson.dumps(GENERATE).decode())
    p.add_argument("--count", type=int, default=50)
    p.add_argument("-c", "--concurrency", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--api-key", default=None)
    a = p.parse_args()
    headers = {"Authorization": f"Bearer {a.api_key}"} if a.api_key else None
    report = asyncio.run(run_mcp_load(a.url, tool=a.tool, arguments=orjson.loads(a.arguments), count=a.count,
                                      concurrency=a.concurrency, time_limit_s=a.time_limit, headers=headers))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
