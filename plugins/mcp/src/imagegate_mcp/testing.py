"""Helpers for tests that drive this front-end (also used by cross-plugin suites).

:func:`serve_streamable_http` runs the streamable-HTTP app for a gateway on a free 127.0.0.1 port
in the current event loop and always stops it. Not an entry point; import it only in tests.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, GetTaskRequest, GetTaskRequestParams, Result
from pydantic import TypeAdapter

from .tasks import TASKS_EXTENSION

if TYPE_CHECKING:
    from imagegate import Gateway
    from mcp import Client
    from mcp.client.session import ClientSession

__all__ = ["TaskHandle", "TasksExtension", "get_task", "serve_streamable_http"]


@asynccontextmanager
async def serve_streamable_http(gateway: Gateway) -> AsyncIterator[str]:
    """Serve ``gateway`` over streamable HTTP; yields ``http://127.0.0.1:<port>/mcp``."""
    import uvicorn

    from .transport import http_app, uvicorn_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = http_app(gateway, base_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(10):
                await task
        except TimeoutError:
            task.cancel()
        sock.close()


class TaskHandle(Result):
    """The extension's ``CreateTaskResult`` (``resultType: "task"``; the SDK has no type for it)."""

    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    created_at: str
    last_updated_at: str
    ttl_ms: int | None
    poll_interval_ms: int | None = None


async def _get(session: ClientSession, task_id: str) -> dict[str, Any]:
    request = GetTaskRequest(params=GetTaskRequestParams(task_id=task_id))
    return await session.send_request(request, TypeAdapter(dict[str, Any]))


async def get_task(client: Client, task_id: str) -> dict[str, Any]:
    """``tasks/get`` (the task as JSON)."""
    return await _get(client.session, task_id)


async def _poll_until_done(handle: TaskHandle, ctx: ClaimContext) -> CallToolResult:
    """What a tasks-aware client does with a handle: poll ``tasks/get`` at the interval it names."""
    while True:
        task = await _get(ctx.session, handle.task_id)
        if task["status"] == "completed":
            return CallToolResult.model_validate(task["result"])
        if task["status"] != "working":
            msg = f"task {handle.task_id} ended {task['status']}"
            raise RuntimeError(msg)
        await asyncio.sleep((handle.poll_interval_ms or 1000) / 1000)


class TasksExtension(ClientExtension):
    """The tasks extension for ``Client(extensions=[TasksExtension()])``."""

    identifier = TASKS_EXTENSION

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=TaskHandle, resolve=_poll_until_done)]
