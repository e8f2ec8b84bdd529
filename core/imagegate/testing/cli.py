"""Running the ``imagegate`` CLI from an async test, the way a user runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["CliRun", "run_cli"]


@dataclass(frozen=True, slots=True)
class CliRun:
    """What one ``imagegate`` run returned and printed."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The standard output parsed as JSON (for ``--json`` runs)."""
        return orjson.loads(self.stdout)


async def run_cli(env: dict[str, str], *args: str, secrets: Iterable[str] = (),
                  timeout_s: float = 120.0) -> CliRun:
    """Run ``imagegate ARGS`` in a subprocess with ``env`` over this process's environment, without
    blocking the event loop (fakes serving on it keep answering); killed if it outlives
    ``timeout_s``. Fails if any of ``secrets`` appears in its output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from imagegate.cli import main; main()", *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    done = CliRun(process.returncode or 0, out.decode(), err.decode())
    leaked = [secret for secret in secrets if secret in done.stdout + done.stderr]
    assert not leaked, f"imagegate {' '.join(args)} printed {len(leaked)} secret(s)"
    return done
