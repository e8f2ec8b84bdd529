"""``build_server(gateway)``: the MCP server (the SDK's low-level ``Server``) over one gateway.

The low-level server is used because the tools' schemas come from the catalog, not from Python
signatures, and results are built here (structured content, resource links, ``isError``).
Stored images are resources at ``imagegate://images/{id}``; prompts for common jobs come from
:mod:`imagegate_mcp.prompts`. The gateway may still be opening
(a future): the handshake is answered at once and handlers wait for the catalog. The server's
name, version and instructions are in :mod:`imagegate_mcp.identity`. Generating tool calls can
run as MCP tasks (both the 2025-11-25 core feature and the 2026-07-28 extension; see
:mod:`imagegate_mcp.tasks`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Caller, Gateway
    from mcp.server import Server
    from mcp.server.context import ServerRequestContext

    from .job_tools import Relays
    from .links import FileLinks
    from .settings import MCPSettings
    from .tools import ToolSpec

__all__ = ["CALLER", "IMAGE_URI_PREFIX", "build_server"]

CALLER = "imagegate.caller"
"""The ASGI scope key of the :class:`~imagegate.Caller` that the bearer check found."""

IMAGE_URI_PREFIX = "imagegate://images/"
RESOURCE_NOT_FOUND = -32002
"""Resource not found before 2026-07-28; from then on it is invalid params (-32602)."""
MODERN_RESOURCE_NOT_FOUND = -32602


TRACE_KEYS = ("traceparent", "tracestate")


def _meta(ctx: ServerRequestContext[Any]) -> dict[str, Any]:
    meta = (ctx.params or {}).get("_meta") or {}
    return meta if isinstance(meta, dict) else {}


def _progress_token(ctx: ServerRequestContext[Any]) -> Any:
    return _meta(ctx).get("progressToken")


def _trace_carrier(ctx: ServerRequestContext[Any]) -> dict[str, str]:
    """The call's W3C trace context: from ``params._meta`` (MCP's own convention, which works over
    stdio too), else from the HTTP request's headers (streamable HTTP)."""
    headers = getattr(getattr(ctx, "request", None), "headers", None)
    for source in (_meta(ctx), headers or {}):
        if isinstance(source.get("traceparent"), str):
            return {key: value for key in TRACE_KEYS if isinstance(value := source.get(key), str)}
    return {}


def _caller(ctx: ServerRequestContext[Any]) -> Caller:
    """Who makes a call: the caller the bearer check found (streamable HTTP, see
    :func:`~imagegate_mcp.transport.bearer_auth`), else the local owner (stdio, as for the CLI)."""
    from imagegate import Caller

    scope = getattr(getattr(ctx, "request", None), "scope", None) or {}
    return scope.get(CALLER) or Caller()


def _resource_error(exc: BaseException, uri: str, protocol_version: str) -> Exception:
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import INTERNAL_ERROR
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    from .errors import clip, error_object

    error = error_object(exc, "resources/read")
    not_found = RESOURCE_NOT_FOUND if protocol_version in HANDSHAKE_PROTOCOL_VERSIONS else MODERN_RESOURCE_NOT_FOUND
    code = not_found if error["code"] == "not_found" else INTERNAL_ERROR
    return MCPError(code=code, message=error["message"], data={"uri": clip(uri), **error})


class _Served:
    """The gateway, the ``MCP__*`` settings and the tools, resolved once on first use."""

    def __init__(self, source: Gateway | asyncio.Future[Gateway]) -> None:
        self._source = source
        self._value: tuple[Gateway, MCPSettings, dict[str, ToolSpec]] | None = None

    async def get(self) -> tuple[Gateway, MCPSettings, dict[str, ToolSpec]]:
        from .settings import mcp_settings
        from .tools import build_tools

        if self._value is None:
            source = self._source
            gateway = await asyncio.shield(source) if isinstance(source, asyncio.Future) else source
            settings = mcp_settings(gateway.settings)
            self._value = (gateway, settings, {spec.name: spec for spec in build_tools(gateway, settings)})
        return self._value


def _protocol_error(exc: BaseException, where: str) -> Exception:
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import INTERNAL_ERROR

    from .errors import error_object

    error = error_object(exc, where)
    return MCPError(code=INTERNAL_ERROR, message=error["message"], data=error)


def _invalid_params(exc: BaseException, where: str) -> Exception:
    """A caller's mistake (unknown prompt, missing or bad argument) as JSON-RPC invalid params
    (-32602) carrying the contract's error object; anything else as an internal error."""
    from imagegate import InvalidRequest, NotFound
    from mcp.shared.exceptions import MCPError
    from mcp_types.jsonrpc import INVALID_PARAMS

    from .errors import error_object

    if not isinstance(exc, (InvalidRequest, NotFound)):
        return _protocol_error(exc, where)
    error = error_object(exc, where)
    return MCPError(code=INVALID_PARAMS, message=error["message"], data=error)


def build_server(gateway: Gateway | asyncio.Future[Gateway], *, with_paths: bool = True,
                 links: FileLinks | None = None) -> Server[Any]:
    """An MCP server exposing the gateway's tools and stored images.

    ``gateway`` is an opened gateway or a future of one. ``with_paths`` says whether server-local
    paths mean something to the client (stdio: yes; streamable HTTP: no, so ``path`` is null).
    ``links`` signs the result images' URLs a remote client fetches (streamable HTTP). A call's
    :class:`~imagegate.Caller` (who owns the jobs and images it makes) is the bearer check's.
    """
    import mcp_types as types
    from imagegate import NotFound
    from imagegate.files import is_image_id
    from mcp.server import Server
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS

    from .errors import error_result
    from .identity import INSTRUCTIONS, SERVER_NAME, SERVER_TITLE, server_version
    from .tasks import (
        LEGACY_VERSION,
        TASKS_EXTENSION,
        Tasks,
        client_declares_extension,
        legacy_capability,
        method_error,
    )
    from .tools import call_tool, without_folders

    served = _Served(gateway)
    relays: Relays = {}

    tasks_of: list[Tasks] = []

    async def served_tasks() -> Tasks:
        if not tasks_of:
            gateway, settings, _ = await served.get()
            tasks_of.append(Tasks(gateway, settings, relays, with_paths=with_paths, links=links))
        return tasks_of[0]

    async def list_tools(ctx: ServerRequestContext[Any], params: Any) -> types.ListToolsResult:
        try:
            _, _, tools = await served.get()
        except Exception as exc:
            raise _protocol_error(exc, "tools/list") from None
        listed = [spec.tool() for spec in tools.values()]
        declared = ctx.session.client_capabilities
        if ctx.protocol_version == LEGACY_VERSION and declared is not None and declared.tasks is not None:
            optional = types.ToolExecution(task_support="optional")  # for clients that know tasks only
            listed = [tool.model_copy(update={"execution": optional}) if tools[tool.name].operation else tool
                      for tool in listed]
        return types.ListToolsResult(tools=listed)

    async def on_call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams,
                           ) -> types.CallToolResult:
        try:
            gateway, settings, tools = await served.get()
        except Exception as exc:
            return error_result(exc, "opening the gateway")
        tool = tools.get(params.name)
        if tool is None:
            msg = f"unknown tool {params.name!r}; tools: {', '.join(tools)}"
            return error_result(NotFound(msg, param="name"))
        if (tool.operation is not None and ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
                and client_declares_extension(ctx.params)):  # a task handle at once (2026-07-28)
            try:
                tasks = await served_tasks()
                record = await tasks.create(tool, params.arguments or {}, caller=_caller(ctx),
                                            carrier=_trace_carrier(ctx))
            except Exception as exc:
                return error_result(exc if with_paths else without_folders(exc), f"tool {tool.name}")
            return tasks.created(record, modern=True)  # type: ignore[no-any-return]
        send = ctx.session.report_progress if _progress_token(ctx) is not None else None
        return await call_tool(gateway, tool, params.arguments or {}, settings=settings, with_paths=with_paths,
                               send_progress=send, caller=_caller(ctx), relays=relays,
                               carrier=_trace_carrier(ctx), links=links)

    async def list_prompts(ctx: ServerRequestContext[Any], params: Any) -> types.ListPromptsResult:
        from .prompts import available_prompts, prompt_listing

        try:
            gateway, settings, _ = await served.get()
        except Exception as exc:
            raise _protocol_error(exc, "prompts/list") from None
        return types.ListPromptsResult(prompts=[
            prompt_listing(spec) for spec, _ in available_prompts(gateway, settings).values()])

    async def get_prompt(ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams,
                         ) -> types.GetPromptResult:
        from .prompts import available_prompts, render_prompt

        try:
            gateway, settings, _ = await served.get()
            prompts = available_prompts(gateway, settings)
            if params.name not in prompts:
                msg = f"unknown prompt {params.name!r}; prompts: {', '.join(prompts) or 'none'}"
                raise NotFound(msg, param="name")
            spec, model = prompts[params.name]
            return render_prompt(spec, model, params.arguments or {})
        except Exception as exc:
            raise _invalid_params(exc, "prompts/get") from None

    async def list_resources(ctx: ServerRequestContext[Any], params: Any) -> types.ListResourcesResult:
        try:
            gateway, _, _ = await served.get()
            items = await gateway.list(limit=50)
        except Exception as exc:
            raise _protocol_error(exc, "resources/list") from None
        return types.ListResourcesResult(resources=[
            types.Resource(uri=f"{IMAGE_URI_PREFIX}{item['id']}", name=item["id"], mime_type=item.get("mime_type"),
                           size=item.get("bytes"), description=f"{item.get('model')} {item.get('created', '')}")
            for item in items])

    async def list_templates(ctx: ServerRequestContext[Any], params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[types.ResourceTemplate(
            uri_template=IMAGE_URI_PREFIX + "{id}", name="image", title="Stored image",
            description="An image stored by imagegate, by the id a tool result gave.")])

    async def read_resource(ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams,
                            ) -> types.ReadResourceResult:
        import pybase64

        uri = str(params.uri)
        image_id = uri.removeprefix(IMAGE_URI_PREFIX)
        try:
            gateway, _, _ = await served.get()
            if not uri.startswith(IMAGE_URI_PREFIX) or not is_image_id(image_id):
                msg = f"no such resource {uri!r}; image resources are {IMAGE_URI_PREFIX}{{id}}"
                raise NotFound(msg, param="uri")
            metadata = await gateway.metadata(image_id, _caller(ctx))  # another key's image is not found
            data = await gateway.read(image_id)
        except Exception as exc:
            raise _resource_error(exc, uri, ctx.protocol_version) from None
        return types.ReadResourceResult(contents=[types.BlobResourceContents(
            uri=uri, mime_type=metadata["mime_type"], blob=pybase64.b64encode(data).decode("ascii"))])

    async def legacy_task_call(ctx: ServerRequestContext[Any]) -> Any:
        """A 2025-11-25 ``tools/call`` carrying ``task``: a ``CreateTaskResult`` at once (answered
        here, above the SDK's result check, which knows only ``CallToolResult``)."""
        from mcp.shared.exceptions import MCPError
        from mcp_types.jsonrpc import METHOD_NOT_FOUND

        try:
            call = types.CallToolRequestParams.model_validate(ctx.params, by_name=False)
            _, _, tools = await served.get()
            tool = tools.get(call.name)
            if tool is None:
                msg = f"unknown tool {call.name!r}; tools: {', '.join(tools)}"
                raise NotFound(msg, param="name")
            if tool.operation is None:
                raise MCPError(code=METHOD_NOT_FOUND, message=f"{call.name} does not run as a task "
                               "(its execution.taskSupport is forbidden); call it without task")
            tasks = await served_tasks()
            record = await tasks.create(tool, call.arguments or {}, caller=_caller(ctx),
                                        carrier=_trace_carrier(ctx))
        except MCPError:
            raise
        except Exception as exc:
            raise _invalid_params(exc if with_paths else without_folders(exc), "tools/call") from None
        return tasks.created(record, modern=False)

    async def legacy_tasks(ctx: ServerRequestContext[Any], call_next: Any) -> Any:
        """2025-11-25 tasks: the capability in that revision's ``initialize`` answer, and
        task-augmented tool calls."""
        if (ctx.method == "tools/call" and ctx.protocol_version == LEGACY_VERSION
                and isinstance(ctx.params, dict) and ctx.params.get("task") is not None):
            return await legacy_task_call(ctx)
        result = await call_next(ctx)
        if ctx.method == "initialize" and isinstance(result, dict) and result.get("protocolVersion") == LEGACY_VERSION:
            from mcp_types.methods import serialize_server_result

            # shaped by that revision's surface, as the SDK shapes its own answer
            result = serialize_server_result("initialize", LEGACY_VERSION, {
                **result, "capabilities": {**result["capabilities"], "tasks": legacy_capability()}})
        return result

    def task_method(method: str, work: Any) -> Any:
        async def handle(ctx: ServerRequestContext[Any], params: Any) -> Any:
            refused = method_error(ctx, method)
            if refused is not None:
                raise refused
            try:
                tasks = await served_tasks()
            except Exception as exc:
                raise _protocol_error(exc, method) from None
            return await work(tasks, params, _caller(ctx).jobs_owner, ctx.protocol_version in MODERN_PROTOCOL_VERSIONS)

        return handle

    server = Server(
        SERVER_NAME, version=server_version(), title=SERVER_TITLE, instructions=INSTRUCTIONS,
        on_list_tools=list_tools, on_call_tool=on_call_tool, on_list_prompts=list_prompts,
        on_get_prompt=get_prompt, on_list_resources=list_resources,
        on_list_resource_templates=list_templates, on_read_resource=read_resource)
    server.extensions[TASKS_EXTENSION] = {}  # advertised by server/discover (2026-07-28)
    server.middleware.append(legacy_tasks)
    for method, params_type, work in (
        ("tasks/get", types.GetTaskRequestParams, lambda t, p, owner, modern: t.get(p.task_id, owner, modern=modern)),
        ("tasks/result", types.GetTaskPayloadRequestParams, lambda t, p, owner, _: t.result(p.task_id, owner)),
        ("tasks/list", types.PaginatedRequestParams, lambda t, p, owner, _: t.list(owner, p.cursor)),
        ("tasks/cancel", types.CancelTaskRequestParams,
         lambda t, p, owner, modern: t.cancel(p.task_id, owner, modern=modern)),
        ("tasks/update", types.GetTaskRequestParams, lambda t, p, owner, _: t.update(p.task_id, owner)),
    ):
        server.add_request_handler(method, params_type, task_method(method, work))
    return server
