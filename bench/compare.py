"""Direct-to-upstream against ``imagegate serve http``, interleaved in one run; prints a table, keeps raw JSON.

``python -m bench.compare`` (``make bench``): a few minutes. ``--quick``: a tiny run (seconds).

The fake upstream (bench.fake_upstream) and the gateway run as separate processes. On a machine with
two or more cores the gateway is pinned to core 0 and this process and the fake to core 1, so
"images/s" is the gateway's throughput on one core. The gateway's CPU per request is its process
CPU time (utime+stime from /proc, every thread) over a run divided by the answered requests; its
peak memory is VmHWM, reset before each run through /proc/<pid>/clear_refs. Stored images are
deleted after every run. MCP over streamable HTTP (``imagegate serve mcp --transport streamable-http``,
``tools/call generate_image`` to result via bench.mcp_load) is measured the same way. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench import mcp_startup, procstat
from bench.load import run_load
from bench.mcp_load import run_mcp_load

RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
MODEL = "gpt-image-2.6-sunburst"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pin(cpu: int | None):
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


@dataclass
class Plan:
    """How much to run."""

    delays_ms: tuple[int, ...]
    images: tuple[str, ...]
    concurrency: tuple[int, ...]
    counts: dict[int, int]
    time_limit_s: float
    identity_concurrency: tuple[int, ...]
    soak: int
    warmup: int
    mcp_images: tuple[str, ...] = ()
    mcp_concurrency: tuple[int, ...] = ()


FULL = Plan(delays_ms=(0, 200), images=("big", "small"), concurrency=(1, 8, 32),
            counts={1: 80, 8: 200, 32: 320}, time_limit_s=4.0, identity_concurrency=(1, 8), soak=1000, warmup=30,
            mcp_images=("big", "small"), mcp_concurrency=(1, 8))
QUICK = Plan(delays_ms=(0,), images=("big",), concurrency=(1, 8), counts={1: 8, 8: 16, 32: 32},
             time_limit_s=1.5, identity_concurrency=(1,), soak=0, warmup=4, mcp_images=("big",),
             mcp_concurrency=(1, 8))


class Processes:
    """The fake upstream, the gateway and the MCP server, each a subprocess; ``stop()`` ends them."""

    def __init__(self, workdir: Path, pin: bool, disable: str | None) -> None:
        self.workdir = workdir
        self.pin = pin and len(os.sched_getaffinity(0)) >= 2
        self.disable = disable
        self.upstream: subprocess.Popen | None = None
        self.gateway: subprocess.Popen | None = None
        self.mcp: subprocess.Popen | None = None
        self.upstream_port = 0
        self.gateway_port = 0
        self.mcp_port = 0
        self.storage = workdir / "store"

    def start_upstream(self) -> None:
        self.upstream = subprocess.Popen([sys.executable, "-m", "bench.fake_upstream"], stdout=subprocess.PIPE,
                                         cwd=Path(__file__).resolve().parents[1],
                                         preexec_fn=_pin(1 if self.pin else None))
        line = self.upstream.stdout.readline()
        if not line:
            raise RuntimeError("fake upstream did not start")
        self.upstream_port = orjson.loads(line)["port"]

    def gateway_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__"))}
        env.update({
            "PROVIDERS__OPENAI__BASE_URL": f"http://127.0.0.1:{self.upstream_port}/v1",
            "PROVIDERS__OPENAI__API_KEY": "sk-bench",
            "PROVIDERS__OPENAI__MAX_CONCURRENCY": "64",
            "STORAGE__BACKEND": "local",
            "STORAGE__LOCAL__ROOT": str(self.storage),
            "STORAGE__SPOOL_DIR": str(self.workdir / "spool"),
            "GATEWAY__PUBLIC_URL": f"http://127.0.0.1:{self.gateway_port}",
            "IMAGEGATE_CONFIG": "",
        })
        env.pop("IMAGEGATE_CONFIG")
        if self.disable:
            env["IMAGEGATE_DISABLE_PLUGINS"] = self.disable
        return env

    async def start_gateway(self, profile: Path | None = None) -> float:
        """Start ``imagegate serve http``; return seconds until /healthz answered 200."""
        self.gateway_port = _free_port()
        cmd = [str(BIN / "imagegate"), "serve", "http", "--host", "127.0.0.1", "--port", str(self.gateway_port)]
        if profile is not None:
            cmd = [sys.executable, "-m", "bench.profile_gateway", str(profile), *cmd[1:]]
        log = (self.workdir / "gateway.log").open("ab")
        t0 = time.perf_counter()
        self.gateway = subprocess.Popen(cmd, env=self.gateway_env(), stdout=log, stderr=subprocess.STDOUT,
                                        cwd=Path(__file__).resolve().parents[1],
                                        preexec_fn=_pin(0 if self.pin else None))
        async with aiohttp.ClientSession() as s:
            while True:
                if self.gateway.poll() is not None:
                    raise RuntimeError(f"gateway exited with {self.gateway.returncode}; see {self.workdir}/gateway.log")
                with contextlib.suppress(aiohttp.ClientError):
                    async with s.get(f"{self.gateway_url}/healthz") as r:
                        if r.status == 200:
                            return time.perf_counter() - t0
                if time.perf_counter() - t0 > 60:
                    raise RuntimeError("gateway not ready within 60 s")
                await asyncio.sleep(0.05)

    async def start_mcp(self) -> float:
        """Start ``imagegate serve mcp --transport streamable-http``; return seconds until ``/mcp`` answered."""
        self.mcp_port = _free_port()
        cmd = [str(BIN / "imagegate"), "serve", "mcp", "--transport", "streamable-http", "--host", "127.0.0.1",
               "--port", str(self.mcp_port)]
        log = (self.workdir / "mcp.log").open("ab")
        t0 = time.perf_counter()
        self.mcp = subprocess.Popen(cmd, env=self.gateway_env(), stdout=log, stderr=subprocess.STDOUT,
                                    cwd=Path(__file__).resolve().parents[1], preexec_fn=_pin(0 if self.pin else None))
        async with aiohttp.ClientSession() as s:
            while True:
                if self.mcp.poll() is not None:
                    raise RuntimeError(f"MCP server exited with {self.mcp.returncode}; see {self.workdir}/mcp.log")
                with contextlib.suppress(aiohttp.ClientError):
                    async with s.get(self.mcp_url) as r:  # any HTTP answer (400/405/406 without a session)
                        await r.read()
                        return time.perf_counter() - t0
                if time.perf_counter() - t0 > 60:
                    raise RuntimeError("MCP server not ready within 60 s")
                await asyncio.sleep(0.05)

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}/mcp"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def upstream_url(self) -> str:
        return f"http://127.0.0.1:{self.upstream_port}"

    async def control(self, **settings: Any) -> dict:
        async with aiohttp.ClientSession() as s, s.post(f"{self.upstream_url}/_control", json=settings) as r:
            return await r.json()

    def clean_storage(self) -> int:
        """Delete every stored image (keep the URL signing key); return the number of files removed."""
        removed = 0
        if not self.storage.exists():
            return 0
        for entry in self.storage.iterdir():
            if entry.name.startswith(".url-signing"):
                continue
            if entry.is_dir():
                removed += sum(1 for p in entry.rglob("*") if p.is_file())
                shutil.rmtree(entry, ignore_errors=True)
            else:
                removed += 1
                entry.unlink(missing_ok=True)
        return removed

    def stop(self) -> None:
        for proc in (self.gateway, self.mcp, self.upstream):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


async def measure(procs: Processes, *, target: str, fmt: str, image: str, delay_ms: int, concurrency: int,
                  count: int, time_limit_s: float, identity: bool) -> dict[str, Any]:
    """One run: load against the upstream directly or through the gateway, with the gateway's CPU and memory."""
    if target == "direct":
        url = f"{procs.upstream_url}/v1/images/generations"
        body = {"model": MODEL, "prompt": "a benchmark image"}
        headers = {"Authorization": "Bearer sk-bench"}
    else:
        url = f"{procs.gateway_url}/v1/images/generations"
        body = {"model": MODEL, "prompt": "a benchmark image", "response_format": fmt}
        headers = None
    pid = procs.gateway.pid
    peak_reset = procstat.reset_peak(pid)
    cpu0 = procstat.cpu_seconds(pid)
    wait0 = procstat.runqueue_wait_seconds(pid)
    report = await run_load(url, body, count=count, concurrency=concurrency, time_limit_s=time_limit_s,
                            headers=headers, accept_encoding="identity" if identity else None,
                            expect=b'"url"' if fmt == "url" else b'"b64_json"')
    cpu = procstat.cpu_seconds(pid) - cpu0
    wait = procstat.runqueue_wait_seconds(pid) - wait0
    mem = procstat.memory_kb(pid)
    removed = procs.clean_storage()
    report.update({
        "target": target, "response_format": fmt, "image": image, "delay_ms": delay_ms,
        "headers": "identity" if identity else "default",
        "gateway_cpu_s": round(cpu, 3),
        "gateway_cpu_ms_per_request": round(cpu * 1000 / report["ok"], 2) if report["ok"] and target != "direct"
        else None,
        "gateway_runqueue_wait_ms_per_request": round(wait * 1000 / report["ok"], 2) if report["ok"] else None,
        "gateway_rss_mb": round(mem.get("VmRSS", 0) / 1024, 1),
        "gateway_peak_rss_mb": round(mem.get("VmHWM", 0) / 1024, 1) if peak_reset or target != "direct" else None,
        "peak_reset": peak_reset, "stored_files_removed": removed,
    })
    return report


async def measure_mcp(procs: Processes, *, image: str, concurrency: int, count: int,
                      time_limit_s: float) -> dict[str, Any]:
    """One run of MCP ``tools/call generate_image`` (deliver=link) with the MCP server's CPU and memory."""
    pid = procs.mcp.pid
    peak_reset = procstat.reset_peak(pid)
    cpu0 = procstat.cpu_seconds(pid)
    wait0 = procstat.runqueue_wait_seconds(pid)
    report = await run_mcp_load(procs.mcp_url, arguments={"model": MODEL, "prompt": "a benchmark image",
                                                          "deliver": "link"},
                                count=count, concurrency=concurrency, time_limit_s=time_limit_s)
    cpu = procstat.cpu_seconds(pid) - cpu0
    wait = procstat.runqueue_wait_seconds(pid) - wait0
    mem = procstat.memory_kb(pid)
    removed = procs.clean_storage()
    ok = report["ok"]
    report.update({
        "target": "mcp", "response_format": "link", "image": image, "delay_ms": 0, "headers": "default",
        "gateway_cpu_s": round(cpu, 3),
        "gateway_cpu_ms_per_request": round(cpu * 1000 / ok, 2) if ok else None,
        "gateway_runqueue_wait_ms_per_request": round(wait * 1000 / ok, 2) if ok else None,
        "gateway_rss_mb": round(mem.get("VmRSS", 0) / 1024, 1),
        "gateway_peak_rss_mb": round(mem.get("VmHWM", 0) / 1024, 1),
        "peak_reset": peak_reset, "stored_files_removed": removed,
    })
    return report


async def mcp_matrix(procs: Processes, plan: Plan, log) -> list[dict[str, Any]]:
    """MCP over streamable HTTP: ``tools/call generate_image`` to result, delay 0, per image and concurrency.

    Each cell also runs direct-to-upstream first, so ``+p50`` is what the MCP front-end adds.
    """
    runs: list[dict[str, Any]] = []
    await procs.control(delay_ms=0, image="big")
    await measure_mcp(procs, image="big", concurrency=2, count=plan.warmup, time_limit_s=10)  # warm-up
    for image in plan.mcp_images:
        await procs.control(delay_ms=0, image=image)
        for conc in plan.mcp_concurrency:
            direct = await measure(procs, target="direct", fmt="b64_json", image=image, delay_ms=0,
                                   concurrency=conc, count=plan.counts[conc], time_limit_s=plan.time_limit_s,
                                   identity=False)
            direct["pair"] = "mcp"
            mcp = await measure_mcp(procs, image=image, concurrency=conc, count=plan.counts[conc],
                                    time_limit_s=plan.time_limit_s)
            for r in (direct, mcp):
                runs.append(r)
                log(row(r))
    return runs


async def matrix(procs: Processes, plan: Plan, log) -> list[dict[str, Any]]:
    """Every cell: direct, gateway b64_json, gateway url back to back (interleaved)."""
    runs: list[dict[str, Any]] = []
    targets = (("direct", "b64_json"), ("gateway", "b64_json"), ("gateway", "url"))

    async def cell(delay: int, image: str, conc: int, identity: bool) -> None:
        for target, fmt in targets:
            r = await measure(procs, target=target, fmt=fmt, image=image, delay_ms=delay, concurrency=conc,
                              count=plan.counts[conc], time_limit_s=plan.time_limit_s, identity=identity)
            runs.append(r)
            log(row(r))

    await procs.control(delay_ms=0, image="big")
    for target, fmt in targets:  # warm-up: connections, imports, caches
        await measure(procs, target=target, fmt=fmt, image="big", delay_ms=0, concurrency=2,
                      count=plan.warmup, time_limit_s=10, identity=False)
    for delay in plan.delays_ms:
        for image in plan.images:
            await procs.control(delay_ms=delay, image=image)
            for conc in plan.concurrency:
                await cell(delay, image, conc, identity=False)
    await procs.control(delay_ms=0, image="big")
    for conc in plan.identity_concurrency:
        await cell(0, "big", conc, identity=True)
    return runs


async def soak(procs: Processes, total: int, chunk: int = 250) -> dict[str, Any]:
    """Thousands of 2 MB b64_json requests at 32 in flight; RSS after every chunk (memory must not grow)."""
    await procs.control(delay_ms=0, image="big")
    rss: list[float] = []
    ok = errors = 0
    cpu0 = procstat.cpu_seconds(procs.gateway.pid)
    t0 = time.perf_counter()
    for _ in range(max(1, total // chunk)):
        r = await run_load(f"{procs.gateway_url}/v1/images/generations",
                           {"model": MODEL, "prompt": "soak", "response_format": "b64_json"},
                           count=chunk, concurrency=32, time_limit_s=120)
        ok += r["ok"]
        errors += r["error_count"]
        procs.clean_storage()
        rss.append(round(procstat.memory_kb(procs.gateway.pid)["VmRSS"] / 1024, 1))
    cpu = procstat.cpu_seconds(procs.gateway.pid) - cpu0
    return {"requests": ok, "errors": errors, "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_ms_per_request": round(cpu * 1000 / ok, 2) if ok else None, "rss_mb_after_each_chunk": rss,
            "chunk": chunk, "peak_rss_mb": round(procstat.memory_kb(procs.gateway.pid)["VmHWM"] / 1024, 1)}


def startup(procs: Processes, repeat: int) -> dict[str, Any]:
    """CLI start-up: ``imagegate --help``, one placeholder ``generate``, MCP stdio ``initialize`` and ``tools/list``."""
    env = procs.gateway_env()
    exe = str(BIN / "imagegate")

    def wall(cmd: list[str], n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            out.append(round((time.perf_counter() - t0) * 1000, 1))
        return out

    result: dict[str, Any] = {"help_ms": wall([exe, "--help"], repeat + 2)}
    result["generate_placeholder_ms"] = wall([exe, "generate", "a benchmark image", "-m", "placeholder",
                                              "--size", "1024x1024", "--json"], repeat)
    procs.clean_storage()
    result["mcp_stdio_initialize_ms"], result["mcp_stdio_tools_list_ms"] = [], []
    for _ in range(repeat):
        try:
            run = mcp_startup.spawn_once([exe, "serve", "mcp"], env)
        except RuntimeError:
            run = {"initialize_ms": None, "tools_list_ms": None}
        result["mcp_stdio_initialize_ms"].append(run["initialize_ms"])
        result["mcp_stdio_tools_list_ms"].append(run["tools_list_ms"])
    for key in list(result):
        vals = [v for v in result[key] if v is not None]
        result[key.replace("_ms", "_median_ms")] = statistics.median(vals) if vals else None
    return result


HEAD = (f"{'target':8} {'fmt':8} {'hdrs':8} {'img':5} {'delay':>5} {'conc':>4} {'ok':>4} {'err':>3} {'rps':>7} "
        f"{'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} {'+p50':>7} {'cpu/req':>8} {'wait/req':>8} {'peakMB':>7}")


def row(r: dict[str, Any], added: float | None = None) -> str:
    lat = r["latency_ms"]

    def f(v: Any, w: int, d: int = 1) -> str:
        return f"{'-':>{w}}" if v is None else f"{v:>{w}.{d}f}"

    return (f"{r['target']:8} {r['response_format']:8} {r['headers']:8} {r['image']:5} {r['delay_ms']:>5} "
            f"{r['concurrency']:>4} {r['ok']:>4} {r['error_count']:>3} {f(r['throughput_rps'], 7)} "
            f"{f(lat['p50'], 7)} {f(lat['p90'], 7)} {f(lat['p99'], 7)} {f(lat['max'], 7)} {f(added, 7)} "
            f"{f(r['gateway_cpu_ms_per_request'], 8, 2)} "
            f"{f(r.get('gateway_runqueue_wait_ms_per_request') if r['target'] != 'direct' else None, 8, 2)} "
            f"{f(r['gateway_peak_rss_mb'] if r['target'] != 'direct' else None, 7)}")


def table(runs: list[dict[str, Any]]) -> str:
    """One line per run; ``+p50`` is the gateway's added p50 over the direct run of the same cell."""
    direct = {(r.get("pair") == "mcp", r["image"], r["delay_ms"], r["concurrency"], r["headers"]):
              r["latency_ms"]["p50"] for r in runs if r["target"] == "direct"}
    lines = [HEAD]
    for r in runs:
        d = direct.get((r["target"] == "mcp", r["image"], r["delay_ms"], r["concurrency"], r["headers"]))
        added = None if r["target"] == "direct" or d is None or r["latency_ms"]["p50"] is None \
            else r["latency_ms"]["p50"] - d
        r["added_p50_ms"] = None if added is None else round(added, 2)
        lines.append(row(r, added))
    return "\n".join(lines)


def _git_rev() -> str | None:
    with contextlib.suppress(Exception):
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1], check=True).stdout.strip()
    return None


async def main_async(args: argparse.Namespace) -> Path:
    plan = QUICK if args.quick else FULL
    if args.soak is not None:
        plan.soak = args.soak
    workdir = Path(tempfile.mkdtemp(prefix="imagegate-bench-"))
    procs = Processes(workdir, pin=not args.no_pin, disable=args.disable_plugins)  # decides before we pin ourselves
    if procs.pin:
        os.sched_setaffinity(0, {1})
    doc: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "mode": "quick" if args.quick else "full",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "pinned": procs.pin, "loadavg_at_start": os.getloadavg()}, "git": _git_rev(), "plan": plan.__dict__,
        "disabled_plugins": args.disable_plugins,
    }
    try:
        procs.start_upstream()
        doc["ready_s"] = round(await procs.start_gateway(workdir / "gateway.prof" if args.profile else None), 3)
        doc["png_bytes"] = (await procs.control())["png_bytes"]
        log = print if args.verbose else (lambda _line: None)
        if args.verbose:
            print(HEAD)
        doc["runs"] = await matrix(procs, plan, log)
        if plan.mcp_images and not args.no_mcp:
            doc["mcp_ready_s"] = round(await procs.start_mcp(), 3)
            doc["runs"] += await mcp_matrix(procs, plan, log)
        if plan.soak:
            doc["soak"] = await soak(procs, plan.soak)
        if not args.no_startup:
            doc["startup"] = startup(procs, 1 if args.quick else 3)
    finally:
        procs.stop()
        if args.profile and (workdir / "gateway.prof").exists():
            RESULTS.mkdir(exist_ok=True)
            shutil.copy(workdir / "gateway.prof", RESULTS / "gateway.prof")
        shutil.rmtree(workdir, ignore_errors=True)
    doc["machine"]["loadavg_at_end"] = os.getloadavg()
    print(table(doc["runs"]))
    if "soak" in doc:
        s = doc["soak"]
        print(f"\nsoak: {s['requests']} x 2 MB b64_json at 32 in flight, {s['errors']} errors, "
              f"{s['cpu_ms_per_request']} ms CPU/request, RSS after each {s['chunk']}: {s['rss_mb_after_each_chunk']} MB, "
              f"peak {s['peak_rss_mb']} MB")
    if "startup" in doc:
        st = doc["startup"]
        print(f"start-up (median ms): imagegate --help {st['help_median_ms']}, generate (placeholder, 1024x1024) "
              f"{st['generate_placeholder_median_ms']}, serve mcp stdio initialize {st['mcp_stdio_initialize_median_ms']} "
              f"(tools/list {st['mcp_stdio_tools_list_median_ms']}); "
              f"serve http ready in {doc['ready_s'] * 1000:.0f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}{'-quick' if args.quick else ''}.json"
    out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    print(f"\nraw results: {out}")
    return out


def main() -> None:
    """Command-line entry."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a tiny run (seconds)")
    p.add_argument("--soak", type=int, default=None, help="requests in the memory soak (0: none)")
    p.add_argument("--no-pin", action="store_true", help="do not pin the gateway to core 0")
    p.add_argument("--no-startup", action="store_true", help="skip the CLI/MCP start-up measurements")
    p.add_argument("--no-mcp", action="store_true", help="skip MCP over streamable HTTP")
    p.add_argument("--disable-plugins", default=None, help="IMAGEGATE_DISABLE_PLUGINS for the gateway")
    p.add_argument("--profile", action="store_true", help="run the gateway under cProfile (bench/results/gateway.prof)")
    p.add_argument("-v", "--verbose", action="store_true", help="print each run as it finishes")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
