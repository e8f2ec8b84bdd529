"""The placeholder's grids: each panel drawn on its own, laid out with plain white gutters.

Every panel is a distinct placeholder picture (its description, or the prompt and its number),
so tests can check that tiles are cut where the panels are and that no gutter is left on them.
"""

from __future__ import annotations

import io

from PIL import Image

from . import placeholder_render as render

__all__ = ["GUTTER_COLOR", "gutter_width", "panel_boxes", "render_grid"]

GUTTER_COLOR = (255, 255, 255)


def gutter_width(width: int, height: int) -> int:
    return max(2, round(min(width, height) * 0.02))


def panel_boxes(width: int, height: int, rows: int, columns: int) -> list[tuple[int, int, int, int]]:
    """Each panel's (left, top, right, bottom), in reading order; the leftover pixels widen the
    right and bottom borders."""
    gutter = gutter_width(width, height)
    cell_w = (width - (columns + 1) * gutter) // columns
    cell_h = (height - (rows + 1) * gutter) // rows
    if cell_w < 1 or cell_h < 1:
        msg = f"a {width}x{height} image is too small for a {rows}x{columns} grid"
        raise ValueError(msg)
    return [(gutter + c * (cell_w + gutter), gutter + r * (cell_h + gutter),
             gutter + c * (cell_w + gutter) + cell_w, gutter + r * (cell_h + gutter) + cell_h)
            for r in range(rows) for c in range(columns)]


def render_grid(panels: list[str], *, rows: int, columns: int, width: int, height: int, output_format: str,
                seed: int | None) -> bytes:
    """A grid picture: one rendered panel per description, white gutters between and around them."""
    canvas = Image.new("RGB", (width, height), GUTTER_COLOR)
    for text, box in zip(panels, panel_boxes(width, height, rows, columns), strict=True):
        size = (box[2] - box[0], box[3] - box[1])
        drawn = render.render(text, width=max(render.MIN_SIZE, size[0]), height=max(render.MIN_SIZE, size[1]),
                              output_format="png", seed=seed)
        with Image.open(io.BytesIO(drawn)) as panel:
            canvas.paste(panel.convert("RGB").resize(size), box[:2])
    buffer = io.BytesIO()
    canvas.save(buffer, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[output_format], quality=90)
    return buffer.getvalue()
