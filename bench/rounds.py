"""What the in-process benchmarks share: CPU per request over alternating rounds, and saving a report."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

RESULTS = Path(__file__).resolve().parent / "results"


async def cpu_rounds(ways: dict[str, Callable[[], Awaitable[Any]]], rounds: int,
                     per_round: int) -> dict[str, list[float]]:
    """This process's CPU (ms, all threads) per call of each way, round by round: ``per_round``
    sequential calls of each, in alternating order (after 10 warm-up calls each), so drift in the
    machine's speed falls on both alike."""
    for call in ways.values():
        for _ in range(10):
            await call()
    cpu_ms: dict[str, list[float]] = {name: [] for name in ways}
    for number in range(rounds):
        for name in list(ways) if number % 2 == 0 else list(reversed(ways)):
            cpu0 = time.process_time()
            for _ in range(per_round):
                await ways[name]()
            cpu_ms[name].append((time.process_time() - cpu0) * 1000 / per_round)
    return cpu_ms


def save(prefix: str, report: dict[str, Any]) -> Path:
    """Write ``report`` to ``results/<prefix>-<timestamp>.json``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return path
