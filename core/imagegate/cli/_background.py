"""``--async``: a detached ``imagegate`` process records the job and runs it after the CLI returns.

A CLI process exits as soon as it prints the job, so the job needs a process that lives on: the
command starts ``python -m imagegate.cli._background`` in its own session, hands it the request on
stdin and reads one line back: the job as recorded (``queued``, its ``runner`` the background
process) or the error that refused the request (validation happens before the job is recorded,
so a bad request costs nothing and leaves no job). The background process then closes its output,
runs the job, and exits when the job has ended. If it dies first, the job is taken over like any job
of a dead process by the next gateway that opens with takeover (``imagegate serve``, ``imagegate
jobs wait``, any command that generates): queued jobs run again, Replicate predictions are followed,
other running calls fail with reason ``interrupted``. ``imagegate jobs cancel`` from another process
marks the job ``canceled``; the background process sees it and cancels its call (and the upstream
prediction, where the provider can).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from .._gateway import Gateway
    from .._job_runs import Submitted
    from ._request_args import RequestArgs

__all__ = ["main", "submit"]

_WATCH_S = 0.5
"""How often the background process looks for a ``canceled`` mark on its job."""


def submit(args: RequestArgs, api_key: str | None, as_json: bool) -> dict[str, Any]:
    """Start the background process with this request; the job it recorded (or exit with its error)."""
    from .._errors import InternalError
    from .._job_runs import owner_of
    from ._output import fail

    order = {"request": dataclasses.asdict(args), "owner": owner_of(api_key)}  # the key itself stays here
    process = subprocess.Popen([sys.executable, "-m", "imagegate.cli._background"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    with process.stdin:
        process.stdin.write(orjson.dumps(order))
    out = process.stdout.read()  # until it lets go of its output, once the job is recorded (not ended)
    err = process.stderr.read()
    first = out.partition(b"\n")[0]
    answer = orjson.loads(first) if first.startswith(b"{") else {}
    if "job" in answer:
        return answer["job"]  # type: ignore[no-any-return]
    if "error" in answer:
        fail(answer["error"], as_json)
    last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
    msg = f"the background imagegate process stopped before recording the job (status {process.wait()}): {last[0]}"
    fail(InternalError(msg[:500]).to_dict(), as_json)


def _answer(answer: dict[str, Any]) -> None:
    """Tell the waiting CLI, then let go of its pipes (it returns when they close)."""
    sys.stdout.buffer.write(orjson.dumps(answer) + b"\n")
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


async def _record(gateway: Gateway, order: dict[str, Any]) -> Submitted:
    from ._request_args import RequestArgs

    fields = order["request"]
    args = RequestArgs(**{**fields, "images": tuple(fields["images"]), "cells": tuple(fields["cells"])})
    _, request = await args.build(gateway)
    await gateway.estimate(args.operation, request)  # validated (and priced) before it is recorded
    return await gateway.jobs.submit(args.operation, request, owner=order["owner"], frontend="cli",
                                     trusted_paths=True)


async def _follow(gateway: Gateway, submitted: Submitted) -> None:
    """Wait for the job, cancelling it when another process marked it ``canceled``."""
    task = submitted.task
    assert task is not None
    while not task.done():
        await asyncio.wait([task], timeout=_WATCH_S)
        record = await gateway.jobs.store.get(submitted.record["id"])
        if not task.done() and (record is None or record["status"] == "canceled"):
            task.cancel()
            await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # its end is in the store


async def _work(order: dict[str, Any]) -> None:
    from .._errors import ImagegateError, InternalError
    from .._gateway import open_gateway
    from .._logsetup import configure_logging
    from .._settings import Settings

    answered = False
    try:
        settings = Settings()
        configure_logging(settings, quiet_by_default=True)
        async with open_gateway(settings, take_over=False) as gateway:
            submitted = await _record(gateway, order)
            _answer({"job": gateway.jobs.public(submitted.record)})
            answered = True
            await _follow(gateway, submitted)
    except ImagegateError as exc:
        if not answered:
            _answer({"error": exc.to_dict()})
    except Exception as exc:
        if not answered:
            _answer({"error": InternalError(f"the background process failed: {type(exc).__name__}").to_dict()})
        raise


def main() -> None:
    """The background process: read the order on stdin, record the job, answer, run it."""
    asyncio.run(_work(orjson.loads(sys.stdin.buffer.read())))


if __name__ == "__main__":
    main()
