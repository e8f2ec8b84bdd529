"""Stopping a child process a test started (a server, a fake): politely, then for sure."""

from __future__ import annotations

import subprocess

__all__ = ["stop_process"]


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """Terminate ``process``, kill it if it has not exited within ``timeout_s``, reap it, and close
    its captured stderr (so no pipe is left for the garbage collector to warn about)."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr:
        process.stderr.close()
