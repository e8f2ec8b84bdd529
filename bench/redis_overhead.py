"""What sharing state through Redis costs a request: gateway CPU and Redis round trips.

``python -m bench.redis_overhead [--rounds 6] [--per-round 100]``

Starts the fake upstream (``bench.fake_upstream``) and a ``redis-server`` on loopback, then opens
two gateways in this process against the same fake: one with the defaults (SQLite job store,
in-process provider limits) and one with ``REDIS__URL`` and ``JOBS__BACKEND=redis`` (jobs,
idempotency keys, provider RPM and concurrency, the signing key in Redis). ``--rounds`` alternating
rounds of ``--per-round`` sequential generations (small image, ``PROVIDERS__OPENAI__RPM`` set so the
shared limiter runs) through each; CPU = this process's CPU time (all threads) per request, median
over rounds; commands = what Redis counted (``INFO commandstats``) over the run, per Redis request.

Prints one JSON report and writes it to ``bench/results/redis-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
from pathlib import Path
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
        commands0 = _commands(server.url)
        cpu_ms = await cpu_rounds({name: (lambda g=gateway: g.run("generate", request, frontend="bench"))
                                   for name, gateway in gateways.items()}, rounds, per_round)
        calls = rounds * per_round + 10  # the warm-up calls too: only the Redis gateway talks to Redis
        commands = {name: count - commands0.get(name, 0) for name, count in _commands(server.url).items()}
        sqlite, shared = statistics.median(cpu_ms["sqlite"]), statistics.median(cpu_ms["redis"])
        report.update({
            "rounds": rounds, "per_round": per_round,
            "sqlite_cpu_ms_per_request": round(sqlite, 3), "redis_cpu_ms_per_request": round(shared, 3),
            "redis_adds_cpu_ms_per_request": round(shared - sqlite, 3),
            "redis_commands_per_request": round(sum(commands.values()) / calls, 2),
            "redis_commands_by_name_per_request": {name: round(count / calls, 2)
                                                   for name, count in sorted(commands.items()) if count},
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
