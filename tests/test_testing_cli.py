"""``imagegate.testing.run_cli``: the CLI in a subprocess, its output checked for secrets."""

from __future__ import annotations

import pytest

from imagegate.testing import run_cli


async def test_runs_the_cli_and_keeps_its_output() -> None:
    done = await run_cli({}, "--help")
    assert (done.returncode, done.stderr) == (0, "") and done.stdout.startswith("Usage: imagegate")


async def test_a_secret_in_the_output_fails() -> None:
    with pytest.raises(AssertionError, match="printed 1 secret"):
        await run_cli({}, "--help", secrets=["Usage", "never-printed-0123"])
