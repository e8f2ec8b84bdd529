"""Where a gateway request's CPU goes: user vs system time, event-loop thread vs worker threads.

``python -m bench.cpu_split [--disable-plugins observability] [--count 300] [-c 4] [--profile OUT.prof]
[big:url small:url ...]``
starts the fake upstream and ``imagegate serve http`` as compare does (pinned to core 0), warms up,
then for each ``image:response_format`` cell prints per answered request: user and system CPU of
the whole process, CPU of the event-loop thread and of all other threads (the executor doing
hashing, writes and fsync), minor page faults, peak RSS (VmHWM, reset per cell) and p50 latency.
Run it twice, with and without ``--disable-plugins observability``, to see what observability costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from bench import procstat
from bench.compare import MODEL, Processes
from bench.load import run_load

_TICK = os.sysconf("SC_CLK_TCK")


def _fields(stat_path: Path) -> list[str]:
    text = stat_path.read_text()
    return text[text.rindex(")") + 2:].split()


def _process(pid: int) -> tuple[int, float, float]:
    """Minor faults, user and system CPU seconds of the process."""
    fields = _fields(Path(f"/proc/{pid}/stat"))
    return int(fields[7]), int(fields[11]) / _TICK, int(fields[12]) / _TICK


def _main_thread_cpu(pid: int) -> float:
    fields = _fields(Path(f"/proc/{pid}/task/{pid}/stat"))
    return (int(fields[11]) + int(fields[12])) / _TICK


async def run(cells: list[str], count: int, concurrency: int, disable: str | None, profile: Path | None = None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="imagegate-cpu-split-"))
    procs = Processes(workdir, pin=True, disable=disable)
    if procs.pin:
        os.sched_setaffinity(0, {1})
    try:
        procs.start_upstream()
        await procs.start_gateway(workdir / "gateway.prof" if profile else None)
        pid = procs.gateway.pid
        url = f"{procs.gateway_url}/v1/images/generations"
        await procs.control(delay_ms=0, image="big")
        await run_load(url, {"model": MODEL, "prompt": "warm-up", "response_format": "url"}, count=20,
                       concurrency=2, time_limit_s=30)
        print(f"load average {os.getloadavg()[0]:.2f}; {count} requests per cell, {concurrency} in flight, "
              f"disabled plugins: {disable or 'none'}")
        for cell in cells:
            image, fmt = cell.split(":")
            await procs.control(delay_ms=0, image=image)
            procstat.reset_peak(pid)
            faults0, user0, sys0 = _process(pid)
            main0 = _main_thread_cpu(pid)
            report = await run_load(url, {"model": MODEL, "prompt": "split", "response_format": fmt}, count=count,
                                    concurrency=concurrency, time_limit_s=120)
            faults1, user1, sys1 = _process(pid)
            main = (_main_thread_cpu(pid) - main0) * 1000
            n = max(report["ok"], 1)
            total = (user1 + sys1 - user0 - sys0) * 1000
            print(f"{image:5} {fmt:8} ok={report['ok']} err={report['error_count']}  ms/request: "
                  f"user {(user1 - user0) * 1000 / n:5.2f} sys {(sys1 - sys0) * 1000 / n:5.2f} "
                  f"total {total / n:5.2f} | event loop {main / n:5.2f} other threads {(total - main) / n:5.2f} | "
                  f"minor faults {(faults1 - faults0) / n:5.0f} | peak {procstat.memory_kb(pid)['VmHWM'] / 1024:4.0f} MB "
                  f"| p50 {report['latency_ms']['p50']:.1f} ms", flush=True)
            procs.clean_storage()
    finally:
        procs.stop()
        if profile is not None and (workdir / "gateway.prof").exists():
            shutil.copy(workdir / "gateway.prof", profile)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cells", nargs="*", default=["big:url", "big:b64_json", "small:url"],
                        help="image:response_format (image big or small)")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("-c", "--concurrency", type=int, default=4)
    parser.add_argument("--disable-plugins", default=None, help="IMAGEGATE_DISABLE_PLUGINS for the gateway")
    parser.add_argument("--profile", type=Path, default=None,
                        help="run the gateway under cProfile (event-loop thread CPU) and write the stats here")
    args = parser.parse_args()
    asyncio.run(run(args.cells, args.count, args.concurrency, args.disable_plugins, args.profile))


if __name__ == "__main__":
    main()
