"""What a generate, edit or vary command line asks for, before it is a request (``--async`` hands
it to a background process as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._catalog import ModelSpec, Operation
    from .._gateway import Gateway
    from .._models import ImageRequest

__all__ = ["RequestArgs"]


@dataclass(frozen=True, slots=True)
class RequestArgs:
    """What the user asked for on the command line (JSON-able: a background process builds it too)."""

    operation: Operation
    prompt: str | None
    images: tuple[str, ...] = ()
    mask: str | None = None
    markup: str | None = None
    model: str | None = None
    size: str | None = None
    n: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    grid: str | None = None
    cells: tuple[str, ...] = ()

    async def build(self, gateway: Gateway) -> tuple[ModelSpec, ImageRequest]:
        """The model's spec and the request, each ``--param`` converted to its declared type."""
        from .._models import ImageInput, ImageRequest

        spec = await gateway.resolve_model(self.model)
        typed = {k: spec.params[k].coerce(v) if k in spec.params else v for k, v in self.params.items()}
        return spec, ImageRequest(
            prompt=self.prompt, model=self.model, size=self.size, n=self.n, params=typed,
            images=[ImageInput.parse(ref) for ref in self.images],
            mask=ImageInput.parse(self.mask) if self.mask else None,
            markup=ImageInput.parse(self.markup) if self.markup else None,
            grid=self.grid, cells=list(self.cells) if self.cells else None,
        )
