"""The ``MCP__*`` section: default delivery and the caps that keep results inside a host's limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from imagegate import Settings

__all__ = ["Deliver", "MCPSettings", "mcp_settings"]

Deliver = Literal["link", "preview", "full"]


class MCPSettings(BaseModel):
    """What ``MCP__DELIVER``, ``MCP__PREVIEW_MAX_BYTES``, ``MCP__INLINE_MAX_BYTES``, ``MCP__PROGRESS_INTERVAL_S``,
    ``MCP__OFFER_UNCONFIGURED`` and ``MCP__SOFT_DEADLINE_S`` configure."""

    model_config = ConfigDict(extra="ignore")

    deliver: Deliver = Field("link", description="Delivery when a call does not choose one.")
    preview_max_bytes: int = Field(65_536, ge=1024, description="Largest re-encoded preview, per image.")
    inline_max_bytes: int = Field(
        750_000, ge=1024, description="Largest total of images sent inline by deliver=full; above it, previews."
    )
    progress_interval_s: float = Field(
        2.0, gt=0, le=30, description="Heartbeat period of progress notifications while a call runs."
    )
    offer_unconfigured: bool = Field(
        False, description="Also offer tools and models of providers that cannot be called (no key)."
    )
    soft_deadline_s: float = Field(
        45.0, gt=0, le=600, description=(
            "A generation still running after this long returns status pending with its job_id (it goes on; "
            "get_job waits for it); below the hosts' 60 s tool-call timeout.")
    )


def mcp_settings(settings: Settings) -> MCPSettings:
    """Validate the raw ``mcp`` section, naming the variable on error."""
    return settings.section("mcp", MCPSettings)
