"""How fast a spawned ``imagegate serve mcp`` answers on stdio: ``initialize``, then ``tools/list``.

``python -m bench.mcp_startup [-n 5] [--importtime]``. Each run spawns the server with a temp
``STORAGE__LOCAL__ROOT``, writes the ``initialize`` line at once and times until its answer line;
then, like a real client, sends ``notifications/initialized`` and ``tools/list`` and times (from
the spawn) until that answer. ``--importtime`` runs once more under ``python -X importtime`` and
lists the biggest top-level imports done before the ``initialize`` answer arrived. ``--no-early``
switches off the early ``initialize`` answer (``IMAGEGATE_MCP_EARLY_INITIALIZE=0``), for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import orjson

from bench import procstat

BIN = Path(sys.executable).parent
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def _line(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message) + b"\n"


def _answer(stdout: IO[bytes], request_id: int) -> dict[str, Any]:
    """The next line answering ``request_id`` (notifications in between are skipped)."""
    while True:
        raw = stdout.readline()
        if not raw:
            raise RuntimeError("the server closed stdout")
        message = orjson.loads(raw)
        if message.get("id") == request_id:
            if "result" not in message:
                raise RuntimeError(f"request {request_id} failed: {message.get('error')}")
            return message


def server_env(storage: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this environment) with imagegate's storage in ``storage``."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith(("STORAGE__", "MCP__"))}
    env.update(STORAGE__LOCAL__ROOT=str(storage / "images"), STORAGE__SPOOL_DIR=str(storage / "spool"))
    return env


def spawn_once(cmd: list[str], env: dict[str, str], *, stderr: IO[bytes] | int = subprocess.DEVNULL,
               timeout: float = 60.0) -> dict[str, float]:
    """Spawn ``cmd``; milliseconds from the spawn to the ``initialize`` and ``tools/list`` answers.

    Also the server's CPU time (all threads) and run-queue wait when the ``initialize`` answer was
    read: on a shared machine the wall time says as much about the machine as about the server.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(_line(INITIALIZE))
        proc.stdin.flush()
        _answer(proc.stdout, 1)
        initialize_ms = (time.perf_counter() - t0) * 1000
        cpu_ms = procstat.cpu_seconds(proc.pid) * 1000
        wait_ms = procstat.runqueue_wait_seconds(proc.pid) * 1000
        proc.stdin.write(_line(INITIALIZED) + _line(TOOLS_LIST))
        proc.stdin.flush()
        _answer(proc.stdout, 2)
        tools_ms = (time.perf_counter() - t0) * 1000
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()
    return {"initialize_ms": round(initialize_ms, 1), "tools_list_ms": round(tools_ms, 1),
            "initialize_cpu_ms": round(cpu_ms, 1), "initialize_wait_ms": round(wait_ms, 1)}


def measure(exe: str, env: dict[str, str], repeat: int) -> dict[str, Any]:
    """``repeat`` spawns of ``exe serve mcp``: every time and the medians."""
    runs = [spawn_once([exe, "serve", "mcp"], env) for _ in range(repeat)]
    out: dict[str, Any] = {}
    for key in ("initialize_ms", "tools_list_ms", "initialize_cpu_ms", "initialize_wait_ms"):
        values = [run[key] for run in runs]
        out[key] = values
        out[key.replace("_ms", "_median_ms")] = statistics.median(values)
    return out


def imports_before_initialize(env: dict[str, str], top: int = 20) -> dict[str, float]:
    """Top-level imports (name: cumulative ms) logged before the ``initialize`` answer was read.

    One spawn under ``python -X importtime``; its stderr is read in a thread that keeps the lines
    that arrived before the answer (imports done later, in the background, are left out).
    """
    cmd = [sys.executable, "-X", "importtime", "-c", "from imagegate.cli import main; main()", "serve", "mcp"]
    lines: list[str] = []
    answered = threading.Event()
    read_fd, write_fd = os.pipe()

    def collect() -> None:
        with os.fdopen(read_fd, "rb") as stream:
            for raw in stream:
                if not answered.is_set():
                    lines.append(raw.decode(errors="replace"))

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=write_fd)
        os.close(write_fd)
        write_fd = -1
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(_line(INITIALIZE))
            proc.stdin.flush()
            _answer(proc.stdout, 1)
            answered.set()
            print(f"(under -X importtime: initialize answered after {(time.perf_counter() - t0) * 1000:.0f} ms)",
                  file=sys.stderr)
        finally:
            proc.kill()
            proc.wait()
    finally:
        if write_fd != -1:
            os.close(write_fd)
        reader.join(10)
    rows = []
    for line in lines:
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        if parts[2].startswith(" ") and not parts[2].startswith("  "):  # top level: not nested
            rows.append((parts[2].strip(), int(parts[1]) / 1000))
    return dict(sorted(rows, key=lambda row: -row[1])[:top])


def main() -> None:
    """Command-line entry: print the figures as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=5, help="spawns to time (default 5)")
    p.add_argument("--importtime", action="store_true", help="also list the biggest imports (one more spawn)")
    p.add_argument("--no-early", action="store_true",
                   help="IMAGEGATE_MCP_EARLY_INITIALIZE=0: the SDK answers initialize itself (the old path)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="imagegate-mcp-startup-") as tmp:
        env = server_env(Path(tmp))
        env["IMAGEGATE_MCP_EARLY_INITIALIZE"] = "0" if args.no_early else "1"
        doc: dict[str, Any] = {"loadavg": os.getloadavg(), **measure(str(BIN / "imagegate"), env, args.n)}
        if args.importtime:
            doc["imports_ms"] = imports_before_initialize(env)
    print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
