"""Child processes for the core tests: the CLI run to completion, and a pid no process has."""

from __future__ import annotations

import subprocess
import sys

__all__ = ["dead_pid", "run"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
