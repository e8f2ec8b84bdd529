"""Long generations and the job tools: ``get_job``, ``cancel_job`` and ``list_jobs``.

Hosts give a tool call about 60 s. A generating call that is still running after
``MCP__SOFT_DEADLINE_S`` returns a normal result with ``status: "pending"`` and the ``job_id``;
the job goes on in the background (the gateway records every request as a job), and
``get_job`` with ``wait_s`` waits for it and then returns what the call itself would have
(images, or the error). Jobs belong to the caller's owner: its bearer key over streamable HTTP
when keys are configured, else ``local``, the same owner the HTTP API and the CLI use.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Caller, Gateway, ImageRequest, ImageResult, Operation
    from mcp_types import CallToolResult

    from .links import FileLinks
    from .progress import ProgressRelay, Send
    from .settings import Deliver, MCPSettings

__all__ = ["CANCEL_JOB", "GET_JOB", "JOB_TOOLS", "LIST_JOBS", "Relays", "cancel_job", "get_job", "job_result",
           "list_jobs", "pending_content", "start_job", "submit_and_wait"]

GET_JOB, CANCEL_JOB, LIST_JOBS = "get_job", "cancel_job", "list_jobs"

Relays = dict[str, "ProgressRelay"]
"""The progress relays of the jobs running in this process, by job id."""

_JOB_ID = {"type": "string"}
MAX_WAIT_S = 60

JOB_TOOLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    GET_JOB: ("Get job", "A pending job's state; wait_s waits for it. Once done, the call's images.",
        {"type": "object", "properties": {"job_id": _JOB_ID, "wait_s": {
            "type": "number", "minimum": 0, "maximum": MAX_WAIT_S}}, "required": ["job_id"]}),
    CANCEL_JOB: ("Cancel job", "Cancel a running job (its upstream work too, where possible).",
                 {"type": "object", "properties": {"job_id": _JOB_ID}, "required": ["job_id"]}),
    LIST_JOBS: ("List jobs", "Your recent jobs, newest first.",
                {"type": "object", "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 50}}}),
}
"""Name: title, description and input schema (terse: every byte is in ``tools/list``)."""

_UNFINISHED = ("queued", "running")


async def start_job(gateway: Gateway, operation: Operation, request: ImageRequest, deliver: Deliver, *,
                    caller: Caller, relays: Relays, carrier: dict[str, str] | None,
                    ) -> tuple[dict[str, Any], asyncio.Task[ImageResult]]:
    """Submit the request as a job running in the background: its record and task (whose progress
    goes to the job's relay, whoever listens)."""
    from .progress import ProgressRelay

    relay = ProgressRelay()
    submitted = await gateway.jobs.submit(operation, request, owner=caller.owner, delivery={"deliver": deliver},
                                          frontend="mcp", progress=relay, trusted_paths=False, carrier=carrier,
                                          caller=caller)
    job_id, task = submitted.record["id"], submitted.task
    assert task is not None  # a new job runs here
    relays[job_id] = relay
    task.add_done_callback(lambda done: (relays.pop(job_id, None), done.cancelled() or done.exception()))
    return submitted.record, task


async def submit_and_wait(gateway: Gateway, operation: Operation, request: ImageRequest, deliver: Deliver, *,
                          settings: MCPSettings, caller: Caller, relays: Relays, send_progress: Send | None,
                          carrier: dict[str, str] | None) -> ImageResult | dict[str, Any]:
    """Run the request as a job and wait for it up to the soft deadline: its result, or (still
    running, or canceled meanwhile) the job's record. A caller going away cancels the job."""
    from .progress import progress_reporter

    async with progress_reporter(send_progress, settings.progress_interval_s) as report:
        record, task = await start_job(gateway, operation, request, deliver, caller=caller, relays=relays,
                                       carrier=carrier)
        with relays[record["id"]].listening(report):  # the task has not run yet: no status is missed
            try:
                await asyncio.wait([task], timeout=settings.soft_deadline_s)
            except asyncio.CancelledError:
                task.cancel()  # the pipeline finishes and stores what was paid for
                await asyncio.wait([task])  # the upstream cancel is posted before we go
                raise
    if task.done() and not task.cancelled():
        return task.result()
    return await gateway.jobs.get(record["id"], caller.owner)


def pending_content(record: dict[str, Any], settings: MCPSettings) -> CallToolResult:
    """A job that has no images to show: still running (``pending``), or canceled."""
    import orjson
    from mcp_types import CallToolResult, TextContent

    job_id = record["id"]
    status = "pending" if record["status"] in _UNFINISHED else record["status"]
    body = {"status": status, "job_id": job_id, "model": record["model"], "cost": record["cost"]}
    if status == "pending":
        wait = min(MAX_WAIT_S, max(1, round(settings.soft_deadline_s)))
        since = time.time() - record["created_at"]
        text = (f"Still {record['status']} after {since:.0f} s; the job goes on in the background. Call get_job "
                f'with {{"job_id": "{job_id}", "wait_s": {wait}}} to wait for its images (again while it is '
                "pending); cancel_job stops it.")
    else:
        text = f"The job {job_id} was {status}; it made no images to show."
    return CallToolResult(content=[TextContent(text=orjson.dumps(body).decode()), TextContent(text=text)],
                          structured_content=body)


async def job_result(gateway: Gateway, record: dict[str, Any], *, settings: MCPSettings, with_paths: bool,
                     links: FileLinks | None) -> CallToolResult:
    """What a call returns for the job: its images (or error) once finished, else ``pending``."""
    from .results import result_content

    if record["status"] in _UNFINISHED or record["status"] == "canceled":
        return pending_content(record, settings)
    result = await gateway.jobs.finished(record, with_data=False)  # a failed job raises its error
    deliver = (record.get("delivery") or {}).get("deliver", settings.deliver)
    return await result_content(gateway, result, deliver, settings, with_paths=with_paths, links=links)


async def get_job(gateway: Gateway, arguments: dict[str, Any], *, settings: MCPSettings, owner: str | None,
                  relays: Relays, send_progress: Send | None, with_paths: bool,
                  links: FileLinks | None) -> CallToolResult:
    """The job, after waiting up to ``wait_s`` for it to finish (its progress reported meanwhile)."""
    from .progress import progress_reporter

    job_id, wait_s = arguments["job_id"], float(arguments.get("wait_s", 0))
    await gateway.jobs.get(job_id, owner)  # another owner's job is not found, before any wait
    relay = relays.get(job_id)
    async with progress_reporter(send_progress if wait_s else None, settings.progress_interval_s) as report:
        with relay.listening(report) if relay is not None else nullcontext():
            record = await gateway.jobs.wait(job_id, owner, wait_s)
    return await job_result(gateway, record, settings=settings, with_paths=with_paths, links=links)


async def cancel_job(gateway: Gateway, arguments: dict[str, Any], *, owner: str | None) -> dict[str, Any]:
    record = await gateway.jobs.cancel(arguments["job_id"], owner)
    return {"job_id": record["id"], "status": record["status"]}


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    prompt = (record.get("parameters") or {}).get("prompt")
    images = [image["id"] for image in (record.get("result") or {}).get("images", [])]
    error = (record.get("error") or {}).get("code")
    entry = {"job_id": record["id"], "status": record["status"], "operation": record["operation"],
             "model": record["model"], "created_at": record["created_at"],
             "prompt": prompt[:200] if isinstance(prompt, str) else None, "images": images, "error": error}
    return {key: value for key, value in entry.items() if value not in (None, [])}


async def list_jobs(gateway: Gateway, arguments: dict[str, Any], *, owner: str | None) -> dict[str, Any]:
    records = await gateway.jobs.list(owner, int(arguments.get("limit", 10)))
    return {"jobs": [_summary(record) for record in records]}
