"""``imagegate jobs``: list, show, wait for and cancel recorded jobs (every request is one).

A caller sees its owner's jobs: ``--api-key`` (or ``IMAGEGATE_API_KEY``) acts as that gateway
key's owner, as an HTTP client with the key; without it, the ``local`` owner (the CLI, MCP over
stdio, HTTP when no keys are configured). ``list``, ``get`` and ``cancel`` only read the store and
mark it; ``wait`` also runs a job a dead process left (as a server does when it opens).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from ._output import API_KEY_OPTION, JSON_OPTION, cli_gateway, echo, emit_json, print_result, run_async

if TYPE_CHECKING:
    from .._gateway import Gateway
    from .._models import ImageResult

__all__ = ["attach", "print_job"]


def _line(job: dict[str, Any]) -> str:
    created = datetime.fromtimestamp(job["created_at"], UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    cost = job.get("cost") or {}
    usd = cost.get("actual_usd") if cost.get("actual_usd") is not None else cost.get("estimated_usd")
    price = "" if usd is None else f"  ${usd:.4f}"
    return f"{job['id']}  {job['status']}  {job['operation']}  {job['model']}  {created}{price}"


def print_job(job: dict[str, Any], result: ImageResult | None, as_json: bool) -> None:
    """The public job object (``--json``; a finished job's result with fresh URLs and paths), or its
    line, then its images as ``imagegate generate`` prints them, or its error."""
    if as_json:
        emit_json({**job, "result": result.contract()} if result is not None else job)
        return
    echo(_line(job))
    if result is not None:
        print_result(result, as_json=False)
    if job.get("error"):
        error = job["error"]
        where = f" [{error['param']}]" if error.get("param") else ""
        reason = f" (reason: {job['reason']})" if job.get("reason") else ""
        echo(f"error: {error['code']}{where}: {error['message']}{reason}")


async def _show(gateway: Gateway, record: dict[str, Any], as_json: bool) -> None:
    from .._errors import NotFound

    result = None
    if record["status"] == "succeeded":
        try:
            result = await gateway.jobs.result(record, with_data=False)
        except NotFound:  # an image deleted since: the recorded result stands
            result = None
    print_job(gateway.jobs.public(record), result, as_json)


@click.group()
def jobs() -> None:
    """Recorded jobs: every generate, edit and vary (and each HTTP or MCP request) is one.

    `imagegate generate … --async` prints a job and returns; a background imagegate process runs it.
    `imagegate jobs wait ID` then prints its images. If that process dies, the next `imagegate serve`
    or `imagegate jobs wait` takes the job over (a queued job runs again, a Replicate prediction is
    followed, another running call fails as interrupted). Jobs are kept JOBS__RETENTION_H hours.
    """


@jobs.command(name="list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--before", metavar="JOB_ID", help="Only jobs older than this one (the next page).")
@API_KEY_OPTION
@JSON_OPTION
def list_jobs(limit: int, before: str | None, api_key: str | None, as_json: bool) -> None:
    """List your jobs, newest first."""
    from .._job_runs import owner_of

    async def go() -> None:
        async with cli_gateway(writes=False) as gateway:
            found = [gateway.jobs.public(r) for r in await gateway.jobs.list(owner_of(api_key), limit, before)]
        if as_json:
            emit_json(found)
            return
        for job in found:
            echo(_line(job))

    run_async(go, as_json)


@jobs.command()
@click.argument("job_id")
@API_KEY_OPTION
@JSON_OPTION
def get(job_id: str, api_key: str | None, as_json: bool) -> None:
    """Show a job; a finished one with its images (path, metadata) as `imagegate get` shows them."""
    from .._job_runs import owner_of

    async def go() -> None:
        async with cli_gateway(writes=False) as gateway:
            await _show(gateway, await gateway.jobs.get(job_id, owner_of(api_key)), as_json)

    run_async(go, as_json)


@jobs.command()
@click.argument("job_id")
@click.option("--timeout", type=click.FloatRange(0), metavar="SECONDS",
              help="Give up after this long (exit 1, code timeout); default: until the job ends.")
@API_KEY_OPTION
@JSON_OPTION
def wait(job_id: str, timeout: float | None, api_key: str | None, as_json: bool) -> None:
    """Wait for a job to end and show it with its images; exit 1 when it failed or was canceled.

    A job whose process died (queued, or running without resumable upstream work) is run, or
    failed as interrupted, here, as a server does when it starts.
    """
    from .._errors import Timeout
    from .._job_runs import FINISHED, owner_of

    async def go() -> str:
        async with cli_gateway() as gateway:
            record = await gateway.jobs.wait(job_id, owner_of(api_key), float("inf") if timeout is None else timeout)
            if record["status"] not in FINISHED:
                msg = f"job {job_id} is still {record['status']} after {timeout:g} s; wait again"
                raise Timeout(msg, param="timeout", retryable=True)
            await _show(gateway, record, as_json)
            return str(record["status"])

    if run_async(go, as_json) != "succeeded":
        sys.exit(1)


@jobs.command()
@click.argument("job_id")
@API_KEY_OPTION
@JSON_OPTION
def cancel(job_id: str, api_key: str | None, as_json: bool) -> None:
    """Cancel a queued or running job (and its upstream call where the provider can); show it."""
    from .._job_runs import owner_of

    async def go() -> None:
        async with cli_gateway(writes=False) as gateway:
            await _show(gateway, await gateway.jobs.cancel(job_id, owner_of(api_key)), as_json)

    run_async(go, as_json)


def attach(cli: click.Group) -> None:
    cli.add_command(jobs)
