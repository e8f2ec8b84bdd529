"""Request and result shapes shared by every front-end.

Front-ends translate their own input (CLI flags, OpenAI JSON or multipart, MCP tool arguments)
into an :class:`ImageRequest` and present an :class:`ImageResult`; the gateway does the rest.
``ImageResult.contract()`` is the object of CONTRACT.md that CLI ``--json`` and MCP return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Cost", "ImageInput", "ImageOut", "ImageRequest", "ImageResult"]

InputKind = Literal["id", "path", "url", "base64", "bytes"]
_BASE64_RE = re.compile(r"[A-Za-z0-9+/=\s_-]+")
_BASE64_IMAGE_PREFIXES = ("iVBORw0KGgo", "/9j/", "UklGR", "R0lGOD", "PHN2Zy", "PD94bW")  # png jpeg webp gif svg xml


class ImageInput(BaseModel):
    """An input image by reference: a stored image id, a path, an https URL, base64, or bytes."""

    model_config = ConfigDict(extra="forbid")

    kind: InputKind
    value: str | bytes = Field(repr=False)
    filename: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageInput:
        """Guess the kind of a reference given as text (MCP arguments, CLI arguments)."""
        from ._ids import is_image_id

        if is_image_id(text):
            return cls(kind="id", value=text)
        if text.startswith("data:"):
            return cls(kind="base64", value=text)
        if text.startswith(("https://", "http://")):
            return cls(kind="url", value=text)
        if text.startswith(_BASE64_IMAGE_PREFIXES) or (len(text) > 256 and _BASE64_RE.fullmatch(text)):
            return cls(kind="base64", value=text)
        return cls(kind="path", value=text)


class ImageRequest(BaseModel):
    """What a caller asks for; validated against the model's spec by the gateway."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = None
    model: str | None = None
    size: str | None = None
    n: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    images: list[ImageInput] = Field(default_factory=list)
    mask: ImageInput | None = None
    markup: ImageInput | None = None
    stream: bool = False
    grid: str | None = None
    """``"RxC"``: one image laid out as panels, stored whole and cut into tiles (see :mod:`imagegate.grids`)."""
    cells: list[str] | None = None
    """With ``grid``: one description per panel, in reading order."""


@dataclass(frozen=True, slots=True)
class Cost:
    """USD estimated before the call and actually spent; ``unofficial`` when the catalog's prices
    behind them are third-party figures (shown as ``"unofficial": true``)."""

    estimated_usd: float | None = None
    actual_usd: float | None = None
    unofficial: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"estimated_usd": self.estimated_usd, "actual_usd": self.actual_usd}
        if self.unofficial:
            out["unofficial"] = True
        return out


@dataclass(slots=True)
class ImageOut:
    """One stored image as every front-end presents it; ``data`` saves a read-back.

    ``b64``, when set, is the canonical base64 of ``data`` as the provider sent it (front-ends
    answering base64 send it instead of encoding ``data`` again).
    """

    id: str
    mime_type: str
    bytes: int
    sha256: str
    width: int | None
    height: int | None
    path: str | None
    url: str | None
    revised_prompt: str | None = None
    data: bytes | bytearray | memoryview | None = field(default=None, repr=False)
    b64: bytes | bytearray | memoryview | None = field(default=None, repr=False)
    parent_ids: list[str] = field(default_factory=list)
    """The stored images this one was made from (edit/variation inputs, a tile's grid, a transform's source)."""
    cell: dict[str, int] | None = None
    """A grid tile's place: ``{row, column, index}``, all from 0."""

    @property
    def uri(self) -> str:
        return f"imagegate://images/{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uri": self.uri,
            "path": self.path,
            "url": self.url,
            "mime_type": self.mime_type,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "parent_ids": list(self.parent_ids),
            **({"cell": self.cell} if self.cell is not None else {}),
        }


@dataclass(slots=True)
class ImageResult:
    """The outcome of one request: stored images plus what the call cost and how it went."""

    images: list[ImageOut]
    model: str
    provider: str
    request_id: str
    cost: Cost
    revised_prompt: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, int] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    resolved_model: str | None = None
    """Set when a retired model was asked for and this replacement ran (``model`` is the same)."""
    substitutions: list[dict[str, Any]] = field(default_factory=list)
    """What changed to run on ``resolved_model``: ``{"param", "from", "to"}``, the model first."""
    deprecation: dict[str, Any] | None = None
    """Set when the model is deprecated: ``{"shutdown_date", "replacement"}``."""
    grid: dict[str, Any] | None = None
    """For a grid: ``{"id", "rows", "columns"}``; ``images`` are its tiles in cell order, then the grid."""

    def contract(self, *, with_paths: bool = True) -> dict[str, Any]:
        """The structured result of CONTRACT.md (``path`` nulled where it means nothing)."""
        images = [image.as_dict() for image in self.images]
        if not with_paths:
            for image in images:
                image["path"] = None
        out: dict[str, Any] = {
            "images": images,
            "model": self.model,
            "provider": self.provider,
            "revised_prompt": self.revised_prompt,
            "cost": self.cost.as_dict(),
            "request_id": self.request_id,
        }
        if self.resolved_model is not None:
            out.update(resolved_model=self.resolved_model, substitutions=self.substitutions)
        if self.deprecation is not None:
            out["deprecation"] = self.deprecation
        if self.grid is not None:
            out["grid"] = self.grid
        return out
