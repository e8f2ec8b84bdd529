"""A bounded load generator: ``count`` requests at most, for ``time_limit_s`` at most, ``concurrency`` in flight.

Each worker sends ``POST url`` with a JSON body and reads the whole answer. By default the request
carries aiohttp's default headers (``Accept-Encoding: gzip, deflate`` as most HTTP clients send);
``accept_encoding="identity"`` asks for an uncompressed answer instead. The report is a plain dict
(JSON-ready): throughput, latency p50/p90/p99/max in ms, errors by status, bytes on the wire and
after decoding.

``python -m bench.load URL --count 50 -c 8 --body '{"model": "gpt-image-2.6-sunburst", "prompt": "x"}'``
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import orjson
from aiohttp import ClientSession, ClientTimeout, TCPConnector


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0-100) of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


async def run_load(url: str, body: dict[str, Any], *, count: int, concurrency: int, time_limit_s: float,
                   headers: dict[str, str] | None = None, accept_encoding: str | None = None,
                   request_timeout_s: float = 60.0, expect: bytes | None = None) -> dict[str, Any]:
    """Run the load and return the report.

    ``expect``: bytes that every successful answer must contain (else it counts as an error).
    """
    payload = orjson.dumps(body)
    send_headers = {"Content-Type": "application/json", **(headers or {})}
    if accept_encoding is not None:
        send_headers["Accept-Encoding"] = accept_encoding
    latencies: list[float] = []
    errors: dict[str, int] = {}
    wire_bytes = 0
    body_bytes = 0
    issued = 0
    deadline = time.perf_counter() + time_limit_s

    async def worker(session: ClientSession) -> None:
        nonlocal issued, wire_bytes, body_bytes
        while issued < count and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                async with session.post(url, data=payload, headers=send_headers) as resp:
                    data = await resp.read()
                    wire = resp.content.total_raw_bytes if hasattr(resp.content, "total_raw_bytes") else None
                    status = resp.status
            except (TimeoutError, OSError, Exception) as exc:  # noqa: BLE001 - every failure is a counted error
                key = type(exc).__name__
                errors[key] = errors.get(key, 0) + 1
                continue
            elapsed = time.perf_counter() - t0
            if status != 200 or (expect is not None and expect not in data[:4096] and expect not in data):
                key = f"http_{status}" if status != 200 else "unexpected_body"
                errors[key] = errors.get(key, 0) + 1
                continue
            latencies.append(elapsed)
            body_bytes += len(data)
            wire_bytes += wire if wire is not None else len(data)

    connector = TCPConnector(limit=concurrency, force_close=False)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=request_timeout_s)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()
    ms = [v * 1000 for v in latencies]
    return {
        "url": url, "concurrency": concurrency, "count_limit": count, "time_limit_s": time_limit_s,
        "accept_encoding": send_headers.get("Accept-Encoding", "default (gzip, deflate)"),
        "requests": issued, "ok": len(latencies), "errors": errors, "error_count": sum(errors.values()),
        "wall_s": round(wall, 4), "throughput_rps": round(len(latencies) / wall, 2) if wall else None,
        "latency_ms": {"p50": _r(percentile(ms, 50)), "p90": _r(percentile(ms, 90)),
                       "p99": _r(percentile(ms, 99)), "max": _r(ms[-1] if ms else None),
                       "mean": _r(sum(ms) / len(ms) if ms else None)},
        "bytes": {"body": body_bytes, "wire": wire_bytes},
    }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def main() -> None:
    """Command-line entry: print the report as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--body", default='{"model": "gpt-image-2.6-sunburst", "prompt": "bench", "response_format": "b64_json"}')
    p.add_argument("--count", type=int, default=100)
    p.add_argument("-c", "--concurrency", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--identity", action="store_true", help="send Accept-Encoding: identity")
    p.add_argument("--api-key", default=None)
    a = p.parse_args()
    headers = {"Authorization": f"Bearer {a.api_key}"} if a.api_key else None
    report = asyncio.run(run_load(a.url, orjson.loads(a.body), count=a.count, concurrency=a.concurrency,
                                  time_limit_s=a.time_limit, headers=headers,
                                  accept_encoding="identity" if a.identity else None))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
