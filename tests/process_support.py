"""Child processes for the core tests: the CLI's environment and a run of it to completion, and a
pid no process has."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["cli_env", "dead_pid", "run"]


def cli_env(tmp_path: Path) -> dict[str, str]:
    """This environment without the user's imagegate and provider settings, storing under ``tmp_path``
    (jobs beside the spool), observability off."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(
        ("PROVIDERS__", "STORAGE__", "GATEWAY__", "JOBS__", "REDIS__", "IMAGEGATE_", "OPENAI_", "REPLICATE_"))}
    return {**clean, "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
            "IMAGEGATE_DISABLE_PLUGINS": "observability"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
