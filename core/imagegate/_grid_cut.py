"""Cutting a grid image into its panels at the gutters found in its pixels (Pillow; call it in a thread).

A gutter is a run of uniform rows (or columns): every pixel of the line within :data:`TOLERANCE`
of the others. The outer uniform border is trimmed; between panels the run nearest each expected
cut line (within a quarter of a panel) is removed, and where no gutter is found the cut falls on
the even division. Each tile then loses edge lines of the gutter colour still left on it.
"""

from __future__ import annotations

import io

from ._imagetype import MAX_PIXELS

__all__ = ["TOLERANCE", "cut_grid"]

TOLERANCE = 24
"""Largest spread of a channel along a line that still counts as uniform (JPEG ringing included)."""
_WINDOW = 0.25
_MAX_EDGE_TRIM = 0.1

Color = tuple[int, ...]


def _uniform(line: object) -> Color | None:
    """The line's colour when uniform, else None."""
    extrema = line.getextrema()  # type: ignore[attr-defined]
    if not all(high - low <= TOLERANCE for low, high in extrema):
        return None
    return tuple((low + high) // 2 for low, high in extrema)


def _runs(colors: list[Color | None], start: int, end: int) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    at = start
    while at < end:
        if colors[at] is None:
            at += 1
            continue
        first = at
        while at < end and colors[at] is not None:
            at += 1
        runs.append((first, at))
    return runs


def _spans(colors: list[Color | None], parts: int) -> tuple[list[tuple[int, int]], list[Color]]:
    """Each panel's [start, end) along one axis, and the gutter colours found."""
    length = len(colors)
    start, end = 0, length
    while start < length and colors[start] is not None:
        start += 1
    while end > start and colors[end - 1] is not None:
        end -= 1
    if end - start < parts:  # all uniform (or nearly): nothing to trim
        start, end = 0, length
    gutters = [colors[i] for i in (*range(0, start), *range(end, length))]
    runs = _runs(colors, start, end)
    step = (end - start) / parts
    cuts: list[tuple[int, int]] = []
    for k in range(1, parts):
        expected = start + k * step
        near = [run for run in runs if abs((run[0] + run[1]) / 2 - expected) <= step * _WINDOW]
        if near:
            run = min(near, key=lambda r: abs((r[0] + r[1]) / 2 - expected))
            gutters += [colors[i] for i in range(*run)]
            cuts.append(run)
        else:
            cuts.append((round(expected), round(expected)))
    edges = [start, *(x for cut in cuts for x in cut), end]
    spans = [(edges[2 * i], edges[2 * i + 1]) for i in range(parts)]
    return [(a, max(b, a + 1)) for a, b in spans], [c for c in gutters if c is not None]


def _close(color: Color | None, gutters: list[Color]) -> bool:
    return color is not None and any(all(abs(a - b) <= TOLERANCE for a, b in zip(color, g)) for g in gutters)


def _trim(tile: object, gutters: list[Color]) -> object:
    """Drop edge lines of the gutter colour left on a tile (at most a tenth of each side)."""
    if not gutters:
        return tile
    width, height = tile.size  # type: ignore[attr-defined]
    left, top, right, bottom = 0, 0, width, height
    rgb = tile.convert("RGB")  # type: ignore[attr-defined]
    most_x, most_y = int(width * _MAX_EDGE_TRIM), int(height * _MAX_EDGE_TRIM)
    while top < most_y and _close(_uniform(rgb.crop((left, top, right, top + 1))), gutters):
        top += 1
    while height - bottom < most_y and _close(_uniform(rgb.crop((left, bottom - 1, right, bottom))), gutters):
        bottom -= 1
    while left < most_x and _close(_uniform(rgb.crop((left, top, left + 1, bottom))), gutters):
        left += 1
    while width - right < most_x and _close(_uniform(rgb.crop((right - 1, top, right, bottom))), gutters):
        right -= 1
    return tile.crop((left, top, right, bottom))  # type: ignore[attr-defined]


def _encode(tile: object, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        tile.convert("RGB").save(buffer, "JPEG", quality=95)  # type: ignore[attr-defined]
    elif fmt == "WEBP":
        tile.save(buffer, "WEBP", quality=95)  # type: ignore[attr-defined]
    else:
        tile.save(buffer, "PNG")  # type: ignore[attr-defined]
    return buffer.getvalue()


def cut_grid(data: bytes, rows: int, columns: int) -> list[bytes]:
    """The panels of a grid image in reading order, each encoded in the grid's own format."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as source:
        width, height = source.size
        if width * height > MAX_PIXELS:
            msg = f"the grid image is {width}x{height}, over {MAX_PIXELS} pixels"
            raise ValueError(msg)
        fmt = source.format or "PNG"
        source.load()
        image = source.copy()
    rgb = image.convert("RGB")
    row_colors = [_uniform(rgb.crop((0, y, width, y + 1))) for y in range(height)]
    column_colors = [_uniform(rgb.crop((x, 0, x + 1, height))) for x in range(width)]
    ys, row_gutters = _spans(row_colors, rows)
    xs, column_gutters = _spans(column_colors, columns)
    gutters = row_gutters + column_gutters
    known = list(dict.fromkeys(gutters))[:16]
    return [_encode(_trim(image.crop((x0, y0, x1, y1)), known), fmt) for y0, y1 in ys for x0, x1 in xs]
