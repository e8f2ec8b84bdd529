"""The async middleware chain the gateway puts around each step of a request.

pluggy's hook wrappers cannot see awaited results, so plugins (observability) contribute plain
async middlewares through the ``step_middleware`` hook, and the gateway composes them here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = ["Middleware", "RunStep", "Step", "StepKind", "run_wrapped"]

T = TypeVar("T")
StepKind = Literal["request", "provider_attempt", "download", "storage_write"]


@dataclass(slots=True)
class Step:
    """What is being wrapped, with attributes a tracer may record (no secrets, no payloads).

    ``carrier`` holds the inbound request's headers (for a ``request`` step: W3C trace context
    from HTTP or MCP); ``outbound_headers`` are sent with the step's upstream HTTP requests (for
    a ``provider_attempt`` or ``download``), so a tracer can inject ``traceparent``.
    """

    kind: StepKind
    attributes: dict[str, Any]
    carrier: dict[str, str] = field(default_factory=dict)
    outbound_headers: dict[str, str] = field(default_factory=dict)


Middleware = Callable[[Step, Callable[[], Awaitable[Any]]], Awaitable[Any]]
RunStep = Middleware
"""How a pipeline stage runs a step: inside every middleware (``Gateway.wrapped``)."""


async def run_wrapped(middlewares: list[Middleware], step: Step, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call`` inside every middleware, the first registered outermost."""
    if not middlewares:
        return await call()

    async def at(index: int) -> Any:
        if index == len(middlewares):
            return await call()
        return await middlewares[index](step, lambda: at(index + 1))

    return await at(0)
