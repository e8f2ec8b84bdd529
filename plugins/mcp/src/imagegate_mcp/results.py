"""What a tool call answers: the JSON both as text and as structured content, and for a
generating call the images delivered as the caller asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Gateway, ImageResult
    from mcp_types import CallToolResult

    from .links import FileLinks
    from .settings import Deliver, MCPSettings

__all__ = ["dumps_text", "result_content", "structured"]


def dumps_text(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def structured(body: dict[str, Any]) -> CallToolResult:
    """A read-only tool's result: the JSON as text and as structured content."""
    from mcp_types import CallToolResult, TextContent

    return CallToolResult(content=[TextContent(text=dumps_text(body))], structured_content=body)


async def result_content(gateway: Gateway, result: ImageResult, deliver: Deliver, settings: MCPSettings, *,
                         with_paths: bool, links: FileLinks | None) -> CallToolResult:
    """A generating call's result: the contract's JSON (text and structured) and the images as asked."""
    from mcp_types import CallToolResult

    from .delivery import deliver_content

    contract = result.contract(with_paths=with_paths)
    if links is not None:
        links.fill(contract)
    content = await deliver_content(gateway, result, deliver, settings, summary=dumps_text(contract))
    return CallToolResult(content=content, structured_content=contract)
