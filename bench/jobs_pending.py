"""Recorded jobs under load: 1000 pending at once, status reads, and what recording costs a request.

``python -m bench.jobs_pending [--jobs 1000] [--max-concurrency 1000] [--reads 3000] [--rounds 6 --per-round 100]``

1. Starts the fake upstream and ``imagegate serve http`` (as ``compare`` does, pinned apart) with
   ``PROVIDERS__OPENAI__MAX_CONCURRENCY=--max-concurrency``, warms up, notes the idle RSS, tells the
   fake to hold every call (on an event: the upstream "takes" as long as the measurement), and sends
   ``--jobs`` generations at once. When the job store (SQLite, read from here) holds them all
   unfinished, as many ``running`` as the limit admits (the rest ``queued``), it reads the
   gateway's RSS and peak RSS and the CPU it spent accepting them; then the gateway's CPU per
   ``GET /healthz`` (2000 in a row), the HTTP floor under any read.
2. Status reads: the gateway's CPU per ``GET /v1/images/jobs/{id}`` of random pending jobs
   (``--reads`` of them, while the 1000 wait), and, to split it, the store's share: a gateway
   opened in this process over the same store (no takeover) reads them with ``gateway.jobs.get``;
   CPU = this process's CPU time (all threads: SQLite runs in worker threads) per read.
3. Releases the fake and waits for every answer.
4. Recording cost: in this process, against the fake (no hold, small image), ``--rounds`` alternating
   rounds of ``--per-round`` sequential requests through ``gateway.serve`` (no job) and
   ``gateway.run`` (a recorded job); CPU per request of each, and the difference.

Prints one JSON report and writes it to ``bench/results/jobs-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench import procstat
from bench.compare import MODEL, Processes
from bench.rounds import cpu_rounds, save



class JobProcesses(Processes):
    """``compare``'s processes with the provider's concurrency limit set for this run."""

    def __init__(self, workdir: Path, max_concurrency: int) -> None:
        super().__init__(workdir, pin=True, disable=None)
        self.max_concurrency = max_concurrency

    def gateway_env(self) -> dict[str, str]:
        env = super().gateway_env()
        env["PROVIDERS__OPENAI__MAX_CONCURRENCY"] = str(self.max_concurrency)
        env.pop("JOBS__SQLITE_PATH", None)
        env.pop("JOBS__BACKEND", None)
        return env


async def _until(what: str, check: Any, timeout_s: float = 300.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := await check()):
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise RuntimeError(msg)
        await asyncio.sleep(0.1)
    return found


async def _post(session: aiohttp.ClientSession, url: str, prompt: str) -> int:
    async with session.post(url, json={"model": MODEL, "prompt": prompt, "size": "1024x1024",
                                       "quality": "low"}) as answer:
        await answer.read()
        return answer.status


def _cpu_s() -> float:
    return time.process_time()


async def _pending(procs: JobProcesses, jobs: int) -> tuple[dict[str, Any], list[asyncio.Task[int]],
                                                              aiohttp.ClientSession]:
    from imagegate._job_store import SqliteJobStore

    pid = procs.gateway.pid
    url = f"{procs.gateway_url}/v1/images/generations"
    store = SqliteJobStore(procs.workdir / "jobs.sqlite3")
    idle = procstat.memory_kb(pid)["VmRSS"]
    await procs.control(hold=True, image="small")
    procstat.reset_peak(pid)
    cpu0 = procstat.cpu_seconds(pid)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None))
    started = time.perf_counter()
    posts = [asyncio.ensure_future(_post(session, url, f"pending {i}")) for i in range(jobs)]

    async def all_pending() -> list[dict[str, Any]] | None:
        """All recorded, and as many running (the provider's slot taken) as the limit lets."""
        found = [r for r in await store.unfinished() if r["parameters"]["prompt"].startswith("pending")]
        running = sum(1 for r in found if r["status"] == "running")
        return found if len(found) >= jobs and running >= min(jobs, procs.max_concurrency) else None

    unfinished = await _until(f"{jobs} pending jobs", all_pending)
    accepted_s = time.perf_counter() - started
    held = (await procs.control())["holding"]
    memory = procstat.memory_kb(pid)
    report = {
        "jobs": jobs, "max_concurrency": procs.max_concurrency, "seconds_to_accept": round(accepted_s, 2),
        "statuses": {s: sum(1 for r in unfinished if r["status"] == s) for s in ("queued", "running")},
        "upstream_calls_held": held, "rss_idle_mb": round(idle / 1024, 1),
        "rss_pending_mb": round(memory["VmRSS"] / 1024, 1), "peak_rss_mb": round(memory["VmHWM"] / 1024, 1),
        "rss_per_pending_job_kb": round((memory["VmRSS"] - idle) / jobs, 1),
        "gateway_cpu_ms_per_accepted_job": round((procstat.cpu_seconds(pid) - cpu0) * 1000 / jobs, 2),
        "job_ids": [r["id"] for r in unfinished],
    }
    report["http_floor_cpu_ms_per_get"] = await _gateway_cpu_per_get(procs, ["/healthz"] * 2000)
    report["http_status_read_cpu_ms"] = await _gateway_cpu_per_get(
        procs, [f"/v1/images/jobs/{random.choice(report['job_ids'])}" for _ in range(2000)])
    return report, posts, session


async def _gateway_cpu_per_get(procs: JobProcesses, paths: list[str]) -> float:
    """The gateway's CPU per ``GET`` of each path in turn (``/healthz``: what any HTTP read costs
    it before its own work)."""
    pid = procs.gateway.pid
    async with aiohttp.ClientSession() as session:
        cpu0 = procstat.cpu_seconds(pid)
        for path in paths:
            async with session.get(f"{procs.gateway_url}{path}") as answer:
                await answer.read()
                assert answer.status == 200, path
        return round((procstat.cpu_seconds(pid) - cpu0) * 1000 / len(paths), 3)


async def _status_reads(gateway: Any, ids: list[str], reads: int) -> dict[str, Any]:
    picks = [random.choice(ids) for _ in range(reads)]
    for job_id in picks[:50]:  # warm-up
        await gateway.jobs.get(job_id, "local")
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    for job_id in picks:
        record = await gateway.jobs.get(job_id, "local")
        assert record["status"] in ("queued", "running")
    cpu, wall = _cpu_s() - cpu0, time.perf_counter() - wall0
    return {"reads": reads, "cpu_ms_per_read": round(cpu * 1000 / reads, 3),
            "wall_ms_per_read": round(wall * 1000 / reads, 3)}


async def _recording_cost(gateway: Any, rounds: int, per_round: int) -> dict[str, Any]:
    from imagegate._models import ImageRequest

    request = ImageRequest(model=MODEL, prompt="recording cost", size="1024x1024", params={"quality": "low"})
    ways = {"serve": lambda: gateway.serve("generate", request, frontend="bench"),
            "run": lambda: gateway.run("generate", request, frontend="bench")}
    cpu_ms = await cpu_rounds(ways, rounds, per_round)
    serve, run = statistics.median(cpu_ms["serve"]), statistics.median(cpu_ms["run"])
    return {"rounds": rounds, "per_round": per_round, "serve_cpu_ms_per_request": round(serve, 3),
            "run_cpu_ms_per_request": round(run, 3), "recording_cpu_ms_per_request": round(run - serve, 3),
            "per_round_ms": {k: [round(v, 3) for v in vs] for k, vs in cpu_ms.items()}}


async def run(jobs: int, max_concurrency: int, reads: int, rounds: int, per_round: int) -> dict[str, Any]:
    from imagegate._gateway import open_gateway
    from imagegate._settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="imagegate-jobs-bench-"))
    procs = JobProcesses(workdir, max_concurrency)
    if procs.pin:
        os.sched_setaffinity(0, {1})
    report: dict[str, Any] = {"load_average": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    try:
        procs.start_upstream()
        await procs.start_gateway()
        async with aiohttp.ClientSession() as warm:
            for i in range(10):
                await _post(warm, f"{procs.gateway_url}/v1/images/generations", f"warm-up {i}")
        pending, posts, session = await _pending(procs, jobs)
        ids = pending.pop("job_ids")
        report["pending"] = pending
        os.environ.update({**procs.gateway_env(), "IMAGEGATE_DISABLE_PLUGINS": "observability"})
        async with open_gateway(Settings(), take_over=False) as gateway:
            report["status_read"] = await _status_reads(gateway, ids, reads)
            await procs.control(hold=False)
            statuses = await asyncio.gather(*posts)
            await session.close()
            report["pending"]["answered_ok"] = sum(1 for status in statuses if status == 200)
            procs.clean_storage()
            report["recording"] = await _recording_cost(gateway, rounds, per_round)
    finally:
        procs.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report["load_average_after"] = round(os.getloadavg()[0], 2)
    save("jobs", report)
    return report


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--max-concurrency", type=int, default=1000,
                        help="PROVIDERS__OPENAI__MAX_CONCURRENCY of the gateway (8 is the default setting)")
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=100)
    args = parser.parse_args()
    report = asyncio.run(run(args.jobs, args.max_concurrency, args.reads, args.rounds, args.per_round))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
