"""The one place imagegate errors become MCP ``isError`` tool results.

The result's only content is a text block that is exactly ``{"error": {...}}`` (no prefix), so an
assistant can fix its arguments (``param``), wait (``retry_after``) or switch model. It carries no
structured content: a tool's output schema describes its success, and clients built on the
TypeScript SDK 1.x validate structured content even on errors (and then throw the error away).
What the message quotes from the caller is clipped, so a huge argument is never echoed back.
Anything that is not an :class:`~imagegate._errors.ImagegateError` is logged here and reported as
``internal`` without its message or stack trace.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_types import CallToolResult

__all__ = ["QUOTE_MAX", "as_imagegate_error", "clip", "error_object", "error_result"]

log = logging.getLogger("imagegate.mcp")

QUOTE_MAX = 100
"""Longest run of non-space characters (a name or value) an error message repeats."""
MESSAGE_MAX = 2000
"""Longest error message sent."""

_LONG_RUN = re.compile(r"\S{%d,}" % (QUOTE_MAX + 1))


def clip(text: str) -> str:
    """``text`` with every long name or value cut to :data:`QUOTE_MAX` characters, at most
    :data:`MESSAGE_MAX` in all."""
    text = _LONG_RUN.sub(lambda m: f"{m.group()[:QUOTE_MAX]}…[{len(m.group())} characters]", text)
    return text if len(text) <= MESSAGE_MAX else f"{text[:MESSAGE_MAX]}…[cut]"


def as_imagegate_error(exc: BaseException, where: str) -> Exception:
    """The exception as an imagegate error; an unexpected one is logged and made ``internal``."""
    from imagegate import ImagegateError, InternalError

    if isinstance(exc, ImagegateError):
        return exc
    log.error("%s failed unexpectedly (%s)", where, type(exc).__name__, exc_info=exc)
    msg = f"{where} failed unexpectedly ({type(exc).__name__}); see the server log"
    return InternalError(msg)


def error_object(exc: BaseException, where: str = "the tool") -> dict[str, Any]:
    """The contract's error object for ``exc``; what an error about the caller's input quotes is clipped."""
    from imagegate import InvalidRequest, NotFound, PermissionDenied

    error = as_imagegate_error(exc, where)
    body: dict[str, Any] = error.to_dict()  # type: ignore[attr-defined]
    if isinstance(error, (InvalidRequest, NotFound, PermissionDenied)):
        body["message"] = clip(body["message"])
    elif len(body["message"]) > MESSAGE_MAX:
        body["message"] = f"{body['message'][:MESSAGE_MAX]}…[cut]"
    if isinstance(body.get("param"), str) and len(body["param"]) > QUOTE_MAX:
        body["param"] = clip(body["param"])[: QUOTE_MAX + 1]
    return body


def error_result(exc: BaseException, where: str = "the tool") -> CallToolResult:
    """An ``isError`` result whose only content is the text ``{"error": {...}}``."""
    import orjson
    from mcp_types import CallToolResult, TextContent

    text = orjson.dumps({"error": error_object(exc, where)}).decode()
    return CallToolResult(content=[TextContent(text=text)], is_error=True)
