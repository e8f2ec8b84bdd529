"""What sharing state through Redis costs a request: gateway CPU and Redis round trips.

``python -m bench.redis_overhead [--rounds 6] [--per-round 100]``

Starts the fake upstream (``bench.fake_upstream``) and a ``redis-server`` on loopback, then opens
two gateways in this process against the same fake: one with the defaults (SQLite job store,
in-process provider limits) and one with ``REDIS__URL`` and ``JOBS__BACKEND=redis`` (jobs,
idempotency keys, provider RPM and concurrency, the signing key in Redis). Each is asked two ways:
anonymously, and as a team's virtual key with a rate and a budget, checked as the HTTP and MCP
front-ends check a bearer key (:meth:`~imagegate.frontend.BearerCheck.caller`: the failed-key
lockout, the key; then its rate, and its budget reserved and settled). ``--rounds`` alternating
rounds of ``--per-round`` sequential generations (small image, ``PROVIDERS__OPENAI__RPM`` set so
the shared limiter runs) through each way; CPU = this process's CPU time (all threads) per
request, median over rounds; commands = what Redis counted (``INFO commandstats``) over
``--per-round`` more requests of each Redis way, per request. Last, what a serving gateway reads
at each heartbeat to find a dead peer's jobs, with 1000 unfinished jobs in Redis (CPU, ms).

Prints one JSON report and writes it to ``bench/results/redis-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from bench.compare import MODEL, Processes
from bench.rounds import cpu_rounds, save



def _commands(url: str) -> dict[str, int]:
    """The commands Redis has run so far by name (``INFO commandstats``), this probe's ``INFO`` aside."""
    import redis

    with redis.Redis.from_url(url) as client:
        stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()
            if name != "cmdstat_info"}


async def _commands_per_request(url: str, call: Callable[[], Awaitable[Any]], requests: int) -> dict[str, float]:
    """The Redis commands ``requests`` sequential calls cost, by name, per call."""
    before = _commands(url)
    for _ in range(requests):
        await call()
    after = _commands(url)
    return {name: round((count - before.get(name, 0)) / requests, 2)
            for name, count in sorted(after.items()) if count > before.get(name, 0)}


async def _sweep_cpu_ms(url: str, template: dict[str, Any], unfinished: int) -> dict[str, float]:
    """CPU (ms, median of 5) of what a serving gateway reads at each heartbeat to find a dead
    peer's jobs, with ``unfinished`` queued jobs in Redis: their runners (what it reads) and their
    whole records (what it read before)."""
    from imagegate_redis.job_store import RedisJobStore
    from imagegate_redis.settings import RedisSettings

    store = RedisJobStore(RedisSettings(url=url, prefix="bench-sweep:"))
    try:
        for n in range(unfinished):
            await store.create({**template, "id": f"job_{n:024d}", "status": "queued", "idempotency_key": None})
        cpu: dict[str, float] = {}
        for name, read in (("runners", store.runners), ("whole_records", store.unfinished)):
            times = []
            for _ in range(5):
                cpu0 = time.process_time()
                assert len(await read()) == unfinished
                times.append((time.process_time() - cpu0) * 1000)
            cpu[name] = round(statistics.median(times), 2)
        return cpu
    finally:
        await store.aclose()


async def _keyed(gateway: Any, request: Any) -> Callable[[], Awaitable[Any]]:
    """A call as a virtual key with a rate and a budget, its bearer key checked as front-ends do."""
    from imagegate.frontend import BearerCheck
    from imagegate.testing import add_virtual_key

    secret = await add_virtual_key(gateway, "team", rpm=1_000_000, budget_usd=1_000_000.0, budget_period="month")
    check, authorization = BearerCheck(["sk-operator"]), f"Bearer {secret}"

    async def call() -> Any:
        caller = await check.caller(authorization, "127.0.0.1", gateway.keys)
        return await gateway.run("generate", request, frontend="bench", caller=caller)

    return call


async def _gateway(env: dict[str, str]) -> Any:
    from imagegate._gateway import Gateway
    from imagegate._plugins import make_plugin_manager
    from imagegate._settings import Settings

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        gateway = Gateway(Settings(), make_plugin_manager())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return await gateway.open(take_over=False)


async def run(rounds: int, per_round: int) -> dict[str, Any]:
    from imagegate._models import ImageRequest
    from imagegate_redis.testing import RedisServer

    workdir = Path(tempfile.mkdtemp(prefix="imagegate-redis-bench-"))
    procs = Processes(workdir, pin=True, disable="observability")
    if procs.pin:
        os.sched_setaffinity(0, {0})
    report: dict[str, Any] = {"load_average": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    server = RedisServer()
    gateways: dict[str, Any] = {}
    try:
        procs.start_upstream()
        server.start()
        base = {**procs.gateway_env(), "PROVIDERS__OPENAI__RPM": "100000"}
        gateways["sqlite"] = await _gateway({**base, "JOBS__SQLITE_PATH": str(workdir / "jobs.sqlite3")})
        gateways["redis"] = await _gateway({**base, "REDIS__URL": server.url, "JOBS__BACKEND": "redis",
                                            "STORAGE__SPOOL_DIR": str(workdir / "spool-redis")})
        await procs.control(image="small")
        request = ImageRequest(model=MODEL, prompt="redis overhead", size="1024x1024", params={"quality": "low"})
        ways = {}
        for name, gateway in gateways.items():
            ways[name] = lambda g=gateway: g.run("generate", request, frontend="bench")
            ways[f"{name}_keyed"] = await _keyed(gateway, request)
        cpu_ms = await cpu_rounds(ways, rounds, per_round)
        commands = {name: await _commands_per_request(server.url, ways[name], per_round)
                    for name in ("redis", "redis_keyed")}
        median = {name: statistics.median(values) for name, values in cpu_ms.items()}
        template = (await gateways["redis"].jobs.list(None, 1))[0]
        report["heartbeat_sweep_cpu_ms_with_1000_unfinished_jobs"] = await _sweep_cpu_ms(server.url, template, 1000)
        report.update({
            "rounds": rounds, "per_round": per_round,
            "cpu_ms_per_request": {name: round(value, 3) for name, value in median.items()},
            "redis_adds_cpu_ms_per_request": round(median["redis"] - median["sqlite"], 3),
            "redis_adds_cpu_ms_per_keyed_request": round(median["redis_keyed"] - median["sqlite_keyed"], 3),
            "redis_commands_per_request": {name: round(sum(counts.values()), 2) for name, counts in commands.items()},
            "redis_commands_by_name_per_request": commands,
            "per_round_ms": {k: [round(v, 3) for v in vs] for k, vs in cpu_ms.items()},
        })
    finally:
        for gateway in gateways.values():
            await gateway.aclose()
        server.stop()
        procs.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report["load_average_after"] = round(os.getloadavg()[0], 2)
    save("redis", report)
    return report


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=100)
    args = parser.parse_args()
    report = asyncio.run(run(args.rounds, args.per_round))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
