"""The one place imagegate errors become MCP ``isError`` tool results.

The text block is exactly ``{"error": {...}}`` (no prefix) and the structured content is the same
object, so an assistant can fix its arguments (``param``), wait (``retry_after``) or switch model.
Anything that is not an :class:`~imagegate.errors.ImagegateError` is logged here and reported as
``internal`` without its message or stack trace.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp_types import CallToolResult

__all__ = ["as_imagegate_error", "error_result"]

log = logging.getLogger("imagegate.mcp")


def as_imagegate_error(exc: BaseException, where: str) -> Exception:
    """The exception as an imagegate error; an unexpected one is logged and made ``internal``."""
    from imagegate.errors import ImagegateError, InternalError

    if isinstance(exc, ImagegateError):
        return exc
    log.error("%s failed unexpectedly (%s)", where, type(exc).__name__, exc_info=exc)
    msg = f"{where} failed unexpectedly ({type(exc).__name__}); see the server log"
    return InternalError(msg)


def error_result(exc: BaseException, where: str = "the tool") -> CallToolResult:
    """An ``isError`` result carrying the error object as text and as structured content."""
    import orjson
    from mcp_types import CallToolResult, TextContent

    error = as_imagegate_error(exc, where)
    body = {"error": error.to_dict()}  # type: ignore[attr-defined]
    text = orjson.dumps(body).decode()
    return CallToolResult(content=[TextContent(text=text)], structured_content=body, is_error=True)
