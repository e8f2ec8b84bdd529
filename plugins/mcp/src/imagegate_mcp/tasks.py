"""MCP tasks for the generating tools: a task handle at once, the gateway's job behind it.

The task id is the job id, and a task belongs to its caller's owner like the job (see
``job_tools.py``). Two wire forms, chosen by the negotiated protocol revision:

* **2025-11-25** (the experimental core feature; the SDK has its types but serves none of it):
  the ``initialize`` answer for that revision advertises ``tasks`` (``list``, ``cancel``,
  ``requests.tools.call``); a client that declares ``tasks`` sees ``execution.taskSupport:
  "optional"`` on the generating tools; a ``tools/call`` carrying ``task`` gets a
  ``CreateTaskResult``; ``tasks/get``, ``tasks/result`` (waits, then the call's result),
  ``tasks/list`` and ``tasks/cancel`` serve the rest. A tool call whose result is an error ends
  the task ``failed``.
* **2026-07-28** (the ``io.modelcontextprotocol/tasks`` extension, advertised in
  ``capabilities.extensions``): a generating call whose request declares the extension gets
  ``{"resultType": "task", ...}``; ``tasks/get`` inlines the result once ``completed`` (a tool
  error included), ``tasks/cancel`` and ``tasks/update`` acknowledge. No input is ever required,
  and ``notifications/tasks`` are not sent.

Task-augmented calls get no progress notifications (poll, or use ``get_job`` with ``wait_s``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Caller, Gateway
    from mcp.server.context import ServerRequestContext
    from mcp_types import CallToolResult

    from .job_tools import Relays
    from .links import FileLinks
    from .settings import MCPSettings
    from .tools import ToolSpec

__all__ = ["LEGACY_VERSION", "TASKS_EXTENSION", "Tasks", "client_declares_extension", "legacy_capability",
           "method_error"]

LEGACY_VERSION = "2025-11-25"
"""The one revision with tasks in the core protocol."""
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
RELATED_TASK_META = "io.modelcontextprotocol/related-task"
TASK_NOT_FOUND = "Failed to retrieve task: Task not found"

_STATUS = {"queued": "working", "running": "working", "succeeded": "completed", "failed": "failed",
           "canceled": "cancelled"}
_PAGE = 50


def legacy_capability() -> dict[str, Any]:
    """The ``tasks`` server capability of 2025-11-25, as the SDK's types dump it."""
    from mcp_types import (
        ServerTasksCapability,
        ServerTasksRequestsCapability,
        TasksCallCapability,
        TasksCancelCapability,
        TasksListCapability,
        TasksToolsCapability,
    )

    capability = ServerTasksCapability(
        list=TasksListCapability(), cancel=TasksCancelCapability(),
        requests=ServerTasksRequestsCapability(tools=TasksToolsCapability(call=TasksCallCapability())))
    return capability.model_dump(by_alias=True, mode="json", exclude_none=True)


def client_declares_extension(params: Any) -> bool:
    """Whether a 2026-07-28 request declares the tasks extension in its per-request capabilities."""
    meta = params.get("_meta") if isinstance(params, dict) else None
    capabilities = meta.get(CLIENT_CAPABILITIES_META) if isinstance(meta, dict) else None
    extensions = capabilities.get("extensions") if isinstance(capabilities, dict) else None
    return isinstance(extensions, dict) and TASKS_EXTENSION in extensions


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _invalid_params(message: str) -> Exception:
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import INVALID_PARAMS

    return MCPError(code=INVALID_PARAMS, message=message)


class Tasks:
    """The task methods of one server, over its gateway's jobs."""

    def __init__(self, gateway: Gateway, settings: MCPSettings, relays: Relays, *, with_paths: bool,
                 links: FileLinks | None) -> None:
        self.gateway = gateway
        self.settings = settings
        self.relays = relays
        self.with_paths = with_paths
        self.links = links

    # the task view of a job -------------------------------------------------------------------

    def _fields(self, record: dict[str, Any], *, modern: bool) -> dict[str, Any]:
        """The ``Task`` fields of a job (camelCase): 2026-07-28 names ``ttlMs``/``pollIntervalMs``."""
        status = _STATUS[record["status"]]
        if modern and status == "failed":  # a tool error is a completed call whose result says so
            status = "completed"
        error = record.get("error") or {}
        message = error.get("message") if record["status"] == "failed" else record["status"]
        updated = record.get("finished_at") or record.get("started_at") or record["created_at"]
        ttl = round(self.gateway.jobs.settings.retention_h * 3600 * 1000)
        poll = round(self.settings.progress_interval_s * 1000)
        return {"taskId": record["id"], "status": status, "statusMessage": message,
                "createdAt": _iso(record["created_at"]), "lastUpdatedAt": _iso(updated),
                "ttlMs" if modern else "ttl": ttl, "pollIntervalMs" if modern else "pollInterval": poll}

    def legacy_task(self, record: dict[str, Any]) -> Any:
        from mcp_types import Task

        return Task.model_validate(self._fields(record, modern=False))

    async def _record(self, task_id: str, owner: str | None) -> dict[str, Any]:
        """The owner's job behind ``task_id``; another owner's (or none) is invalid params."""
        from imagegate import NotFound

        try:
            return await self.gateway.jobs.get(task_id, owner)
        except NotFound:
            raise _invalid_params(TASK_NOT_FOUND) from None

    async def _result(self, record: dict[str, Any]) -> CallToolResult:
        from .errors import error_result
        from .job_tools import job_result

        try:
            return await job_result(self.gateway, record, settings=self.settings, with_paths=self.with_paths,
                                    links=self.links)
        except Exception as exc:
            return error_result(exc, "the task")

    # creating -----------------------------------------------------------------------------------

    async def create(self, tool: ToolSpec, arguments: dict[str, Any], *, caller: Caller,
                     carrier: dict[str, str] | None) -> dict[str, Any]:
        """Start the job of a generating call; its record (raises on bad arguments)."""
        from .job_tools import start_job
        from .tools import build_request, check_arguments

        assert tool.operation is not None
        check_arguments(tool.input_schema, arguments)
        request, deliver = build_request(tool, arguments, self.settings)
        record, _ = await start_job(self.gateway, tool.operation, request, deliver, caller=caller,
                                    relays=self.relays, carrier=carrier)
        return record

    def created(self, record: dict[str, Any], *, modern: bool) -> Any:
        """The answer to a task-augmented call: ``CreateTaskResult`` of the revision."""
        from mcp_types import CreateTaskResult

        if modern:
            return {"resultType": "task", **self._fields(record, modern=True)}
        return CreateTaskResult(task=self.legacy_task(record))

    # the task methods ---------------------------------------------------------------------------

    async def get(self, task_id: str, owner: str | None, *, modern: bool) -> Any:
        from mcp_types import GetTaskResult

        record = await self._record(task_id, owner)
        if not modern:
            return GetTaskResult.model_validate(self._fields(record, modern=False))
        body = {"resultType": "complete", **self._fields(record, modern=True)}
        if body["status"] == "completed":
            body["result"] = (await self._result(record)).model_dump(by_alias=True, mode="json", exclude_none=True)
        return body

    async def result(self, task_id: str, owner: str | None) -> dict[str, Any]:
        """2025-11-25 ``tasks/result``: wait for the job, then the call's result (tagged with the task)."""
        await self._record(task_id, owner)
        record = await self.gateway.jobs.wait(task_id, owner, float("inf"))
        body = (await self._result(record)).model_dump(by_alias=True, mode="json", exclude_none=True)
        body["_meta"] = {**body.get("_meta", {}), RELATED_TASK_META: {"taskId": task_id}}
        return body

    async def list(self, owner: str | None, cursor: str | None) -> Any:
        from mcp_types import ListTasksResult

        records = await self.gateway.jobs.list(owner, _PAGE, cursor)
        more = records[-1]["id"] if len(records) == _PAGE else None
        return ListTasksResult(tasks=[self.legacy_task(record) for record in records], next_cursor=more)

    async def cancel(self, task_id: str, owner: str | None, *, modern: bool) -> Any:
        from mcp_types import CancelTaskResult

        record = await self._record(task_id, owner)
        if record["status"] in ("queued", "running"):
            record = await self.gateway.jobs.cancel(task_id, owner)
        elif not modern:
            raise _invalid_params(f"Cannot cancel task: already in terminal status {_STATUS[record['status']]!r}")
        if modern:
            return {"resultType": "complete"}
        return CancelTaskResult.model_validate(self._fields(record, modern=False))

    async def update(self, task_id: str, owner: str | None) -> dict[str, Any]:
        """2026-07-28 ``tasks/update``: no task of this server ever waits for input; acknowledged."""
        await self._record(task_id, owner)
        return {"resultType": "complete"}


def method_error(ctx: ServerRequestContext[Any], method: str) -> Exception | None:
    """Why ``method`` cannot be served on this request, if it cannot: the revision has no such
    method (-32601), or a 2026-07-28 request does not declare the extension (-32021)."""
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import METHOD_NOT_FOUND, MISSING_REQUIRED_CLIENT_CAPABILITY
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    modern_methods = ("tasks/get", "tasks/cancel", "tasks/update")
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        if method not in modern_methods:
            return MCPError(code=METHOD_NOT_FOUND, message="Method not found", data=method)
        if not client_declares_extension(ctx.params):
            return MCPError(code=MISSING_REQUIRED_CLIENT_CAPABILITY, message="Missing required client capability", data={
                "requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}})
        return None
    if ctx.protocol_version != LEGACY_VERSION or method == "tasks/update":
        return MCPError(code=METHOD_NOT_FOUND, message="Method not found", data=method)
    return None
