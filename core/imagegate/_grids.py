"""Grids: one generation laid out as R×C panels, stored whole and cut into one image per panel.

A request names ``grid="RxC"`` and either one prompt or ``cells`` (R×C descriptions); the
gateway composes the prompt the provider sees from ``GATEWAY__GRID_PROMPT_TEMPLATE``, checks
everything before money is spent, and after the one provider call stores each tile with
``parent_ids=[grid id]``, its ``cell`` and description, and ``paid_by`` (the cost is the grid's).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import InvalidRequest, UpstreamError

if TYPE_CHECKING:
    from ._jobs import Job
    from ._models import ImageOut, ImageRequest, ImageResult
    from ._provider import ProviderResult
    from ._storing import ImageStorer

__all__ = ["DEFAULT_TEMPLATE", "MAX_SIDE", "Grid", "check_grid_job", "compose_prompt", "parse_grid",
           "prepare_grid", "store_tiles"]

MAX_SIDE = 6
RASTER = ("png", "jpeg", "webp")
DEFAULT_TEMPLATE = (
    "One image laid out as a grid of {rows} rows by {columns} columns: {count} separate panels of equal "
    "size, numbered left to right, top to bottom. Separate the panels with clear, straight gutters of "
    "plain uniform background, and keep every panel's content inside its own panel.\n{panels}")
"""Fields: ``{rows}``, ``{columns}``, ``{count}`` and ``{panels}`` (the numbered descriptions, or
the one prompt every panel follows)."""
_GRID = re.compile(r"^\s*(\d{1,2})\s*[xX×]\s*(\d{1,2})\s*$")


@dataclass(frozen=True, slots=True)
class Grid:
    """The layout asked for; ``cells`` holds one description per panel, in reading order."""

    rows: int
    columns: int
    cells: list[str] | None = None

    @property
    def count(self) -> int:
        return self.rows * self.columns

    def cell(self, index: int) -> dict[str, int]:
        """``{row, column, index}`` of a panel, all from 0."""
        return {"row": index // self.columns, "column": index % self.columns, "index": index}

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.columns, "cells": self.cells}


def parse_grid(grid: str, cells: list[str] | None) -> Grid:
    """Check ``grid`` ("RxC", each from 1 to 6) and ``cells`` (R×C non-empty descriptions)."""
    match = _GRID.match(grid) if isinstance(grid, str) else None
    if match is None:
        msg = f"grid must be RxC with rows and columns from 1 to {MAX_SIDE}, e.g. 3x3; got {str(grid)[:20]!r}"
        raise InvalidRequest(msg, param="grid")
    rows, columns = int(match[1]), int(match[2])
    if not (1 <= rows <= MAX_SIDE and 1 <= columns <= MAX_SIDE):
        msg = f"grid {rows}x{columns}: rows and columns must each be from 1 to {MAX_SIDE}"
        raise InvalidRequest(msg, param="grid")
    if cells is not None:
        if len(cells) != rows * columns:
            msg = f"cells has {len(cells)} descriptions; a {rows}x{columns} grid needs {rows * columns}"
            raise InvalidRequest(msg, param="cells")
        if not all(isinstance(cell, str) and cell.strip() for cell in cells):
            msg = "cells must all be non-empty strings (one description per panel)"
            raise InvalidRequest(msg, param="cells")
    return Grid(rows, columns, [cell.strip() for cell in cells] if cells is not None else None)


def compose_prompt(grid: Grid, prompt: str | None, template: str) -> str:
    """The prompt the provider sees: the template, filled with the layout and the panels."""
    if grid.cells is not None:
        panels = "\n".join(f"Panel {i + 1} (row {i // grid.columns + 1}, column {i % grid.columns + 1}): {cell}"
                           for i, cell in enumerate(grid.cells))
        if prompt:
            panels = f"{prompt}\n{panels}"
    else:
        panels = f"Every panel: {prompt}"
    return template.format(rows=grid.rows, columns=grid.columns, count=grid.count, panels=panels)


def prepare_grid(operation: str, request: ImageRequest, template: str) -> tuple[ImageRequest, Grid | None]:
    """The request with its grid prompt composed, and the grid (None when none is asked for)."""
    if request.grid is None:
        if request.cells is not None:
            raise InvalidRequest("cells needs grid (e.g. grid=\"2x2\" with 4 cells)", param="cells")
        return request, None
    if operation != "generate":
        raise InvalidRequest(f"grid is for generating; {operation} takes no grid", param="grid")
    grid = parse_grid(request.grid, request.cells)
    if grid.cells is None and not (request.prompt or "").strip():
        raise InvalidRequest("a grid needs a prompt or cells (one description per panel)", param="cells")
    if request.stream:
        raise InvalidRequest("a grid is answered whole with its tiles; send stream=false", param="stream")
    if request.n not in (None, 1):
        raise InvalidRequest(f"a grid is one image; n must be 1, got {request.n}", param="n")
    return request.model_copy(update={"prompt": compose_prompt(grid, request.prompt, template)}), grid


def check_grid_job(job: Job) -> None:
    """What only the resolved model tells: a grid is cut from pixels, so its format is raster."""
    fmt = job.spec.output_format(job.valid.params)
    if fmt not in RASTER:
        msg = f"a grid is cut from pixels: its output format must be one of {', '.join(RASTER)}, not {fmt}"
        raise InvalidRequest(msg, param="grid")


async def store_tiles(storer: ImageStorer, job: Job, results: list[ProviderResult], stored: ImageResult,
                      grid: Grid) -> ImageResult:
    """Cut each stored grid image at its gutters and store the tiles; the answer lists the tiles
    in cell order, then the grid."""
    from ._grid_cut import cut_grid

    grids: list[ImageOut] = list(stored.images)
    tiles: list[ImageOut] = []
    for image in grids:
        data = bytes(image.data) if image.data is not None else await storer.storage.read(image.id)
        try:
            pieces = await asyncio.to_thread(cut_grid, data, grid.rows, grid.columns)
        except (OSError, ValueError) as exc:
            msg = f"the grid image could not be cut into tiles ({exc}); the grid is stored as {image.id}"
            raise UpstreamError(msg, provider=job.spec.provider, retryable=False) from None
        for index, piece in enumerate(pieces):
            extra = {"parent_ids": [image.id], "cell": grid.cell(index), "paid_by": image.id,
                     "grid": {"id": image.id, "rows": grid.rows, "columns": grid.columns},
                     "description": grid.cells[index] if grid.cells else None, "operation": "grid_tile",
                     "cost": {"estimated_usd": 0.0, "actual_usd": 0.0}}
            tile = await storer.store_derived(job, results[0], piece, image.mime_type, extra)
            tile.cell = extra["cell"]
            tiles.append(tile)
    stored.images = [*tiles, *grids]
    stored.grid = {"id": grids[0].id, "rows": grid.rows, "columns": grid.columns} if grids else None
    return stored
