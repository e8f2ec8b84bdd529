"""One request as it moves through the pipeline, and how its caller wants it delivered.

A :class:`Job` is built once per request, after the model is resolved and the request validated:
the spec, provider, provider settings and delivery choices are fixed there and read by every stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import ModelSpec, Operation, ValidRequest
    from .models import Cost
    from .provider import InputImage, Progress, Provider
    from .settings import ProviderSettings

__all__ = ["Delivery", "Job"]


def _no_progress(message: str, data: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the front-end decided about its caller, fixed when the request arrives.

    ``frontend`` names the caller (cli, http, mcp) for metrics; ``progress`` receives status
    changes; ``trusted_paths`` lets the CLI read any path its user names; ``carrier`` is the
    inbound request's headers (trace context); with ``keep_base64`` (a front-end answering base64)
    images keep the provider's canonical base64, which is otherwise let go before storing.
    """

    frontend: str = "api"
    progress: Progress | None = None
    trusted_paths: bool = False
    carrier: dict[str, str] = field(default_factory=dict)
    keep_base64: bool = False


@dataclass(slots=True)
class Job:
    """One validated request with everything the stages need to serve it."""

    request_id: str
    operation: Operation
    spec: ModelSpec
    provider: Provider
    limits: ProviderSettings
    valid: ValidRequest
    images: list[InputImage]
    mask: InputImage | None
    deadline: float
    estimated_usd: float | None
    parameters: dict[str, Any]
    delivery: Delivery
    stream: bool = False
    retries: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    paid: Cost | None = None
    """Set once the provider has answered: what was spent, whatever happens next."""

    @property
    def progress(self) -> Progress:
        return self.delivery.progress or _no_progress

    def event_fields(self) -> dict[str, str]:
        return {
            "request_id": self.request_id,
            "frontend": self.delivery.frontend,
            "provider": self.spec.provider,
            "model": self.spec.id,
            "operation": self.operation,
        }
