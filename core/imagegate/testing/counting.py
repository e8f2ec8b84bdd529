"""A plugin that counts upstream attempts, to prove how many calls a request cost."""

from __future__ import annotations

from typing import Any

from .. import hookimpl

__all__ = ["AttemptCounter"]


class AttemptCounter:
    """Register it (``build_gateway(settings, ("count", counter))``); ``attempts`` is how many
    provider attempts every request together made (a step middleware, as any plugin would add)."""

    def __init__(self) -> None:
        self.attempts = 0

    @hookimpl
    def step_middleware(self, gateway: Any) -> Any:
        async def count(step: Any, call_next: Any) -> Any:
            if step.kind == "provider_attempt":
                self.attempts += 1
            return await call_next()

        return count
