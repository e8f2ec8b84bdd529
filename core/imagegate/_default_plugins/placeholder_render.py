"""Offline renderer behind the built-in ``placeholder`` provider.

imagegate needs a provider that works with no network access and no API key:
for demos, local development, CI and as a safe default.  This module turns a
prompt into a recognisable picture without any model.  A palette, a gradient
background and a handful of shapes are derived from
``sha256(prompt, seed, size)``, and the prompt itself is written onto the
image.  The same inputs always give byte-identical output, and a different
prompt gives a different picture.

Everything here is pure, synchronous and CPU-bound; callers run it in a worker
thread.  Pillow is imported at module level because the provider imports this
module lazily.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import re
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

__all__ = ["edit", "render", "vary"]

MIN_SIZE = 64
MAX_SIZE = 2048
OUTPUT_FORMATS = frozenset({"png", "jpeg", "webp", "svg"})
BACKGROUNDS = frozenset({"transparent", "opaque", "auto"})

RGB = tuple[int, int, int]

# Bump this when the drawing changes, so an old picture is never passed off as
# the output of new code for the same inputs.
_VERSION = b"imagegate-placeholder/1"
_PNG_COMPRESS_LEVEL = 3
_JPEG_QUALITY = 90
_WEBP_QUALITY = 85
_WEBP_METHOD = 2  # 1024x1024: ~2x faster than 4 for ~3% larger files
_SS = 2  # supersampling factor for anti-aliased shape edges
_MAX_SOURCE_PIXELS = 4096 * 4096
_SOURCE_FORMATS = ("PNG", "JPEG", "WEBP")
_MASK_FORMATS = ("PNG", "WEBP")
_MAX_CAPTION_CHARS = 600
_MAX_TITLE_CHARS = 1000
_MOSAIC_CELLS = 64  # edit/vary SVG: cells on the long side
_ELLIPSIS = "\u2026"
_WHITE: RGB = (255, 255, 255)
_TEXT: RGB = (250, 250, 250)
_HARMONIES: tuple[tuple[float, ...], ...] = (
    (0.0, 0.07, -0.07, 0.14, -0.14),  # analogous
    (0.0, 0.5, 0.05, 0.55, -0.05),  # complementary
    (0.0, 1 / 3, 2 / 3, 0.06, 0.39),  # triadic
    (0.0, 0.42, 0.58, 0.08, 0.5),  # split complementary
    (0.0, 0.25, 0.5, 0.75, 0.12),  # tetradic
)
# Characters that are not allowed in XML 1.0 (even escaped) or are invisible
# control codes; they are replaced by spaces, then whitespace is collapsed.
_BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_WS = re.compile(r"\s+")


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def render(
    prompt: str,
    *,
    width: int,
    height: int,
    output_format: str = "png",
    background: str = "auto",
    seed: int | None = None,
) -> bytes:
    """Draw a deterministic picture for *prompt* and return the encoded bytes.

    ``background="transparent"`` leaves the background fully transparent
    (PNG/WEBP get alpha, SVG gets no background rect); ``"auto"`` means opaque.
    Raises ValueError for invalid arguments, including jpeg + transparent.
    """
    fmt = _check_format(output_format)
    transparent = _check_background(background, fmt)
    width = _check_dim("width", width)
    height = _check_dim("height", height)
    _check_seed(seed)
    rng = _Rng(_material("render", prompt, seed, width, height))
    scene = _build_scene(rng, width, height, prompt, n_shapes=(5, 8), alpha=(150, 235))
    if fmt == "svg":
        return _scene_svg(scene, transparent=transparent, title=prompt)
    canvas = (
        Image.new("RGBA", (width, height), (0, 0, 0, 0))
        if transparent
        else _gradient(scene)
    )
    _paint(canvas, scene)
    return _encode(canvas if transparent else canvas.convert("RGB"), fmt)


def edit(
    source: bytes,
    prompt: str,
    *,
    width: int | None,
    height: int | None,
    output_format: str = "png",
    background: str = "auto",
    seed: int | None = None,
    mask: bytes | None = None,
) -> bytes:
    """Apply a deterministic, prompt-derived overlay (tint + shapes + caption) to *source*.

    The source (PNG/JPEG/WEBP) is resized to ``(width, height)`` when given;
    a single given dimension keeps the aspect ratio.  With *mask* (a PNG with
    alpha, same size as the source) only pixels where the mask alpha is 0 are
    changed, as with OpenAI's edit endpoint.  ``background="transparent"``
    keeps the source's alpha; opaque/auto flattens it onto white.  SVG output
    is a coarse vector mosaic of the result.
    """
    fmt = _check_format(output_format)
    transparent = _check_background(background, fmt)
    _check_seed(seed)
    src = _open_image(source, "source", _SOURCE_FORMATS)
    region = _editable_region(mask, src.size) if mask is not None else None
    size = _target_size(src.size, width, height)
    base = _to_rgba(src)
    if base.size != size:
        base = base.resize(size, Image.Resampling.LANCZOS)
        if region is not None:
            region = region.resize(size, Image.Resampling.NEAREST)

    rng = _Rng(_material("edit", prompt, seed, size[0], size[1]))
    scene = _build_scene(rng, size[0], size[1], prompt, n_shapes=(3, 5), alpha=(120, 200))
    edited = _tint(base, scene.tint, rng.uniform(0.25, 0.4))
    _paint(edited, scene)
    if region is not None:
        edited = Image.composite(edited, base, region)
    out = edited if transparent else _flatten(edited)
    if fmt == "svg":
        return _raster_svg(out, title=prompt)
    return _encode(out, fmt)


def vary(
    source: bytes,
    *,
    width: int | None,
    height: int | None,
    output_format: str = "png",
    seed: int | None = None,
) -> bytes:
    """Return a deterministic variation of *source*: a hue shift plus a few translucent shapes.

    The variation depends on the source bytes, *seed* and output size.  Source
    transparency is kept for PNG/WEBP/SVG output and flattened onto white for
    JPEG.  SVG output is a coarse vector mosaic of the result.
    """
    fmt = _check_format(output_format)
    _check_seed(seed)
    src = _open_image(source, "source", _SOURCE_FORMATS)
    size = _target_size(src.size, width, height)
    base = _to_rgba(src)
    if base.size != size:
        base = base.resize(size, Image.Resampling.LANCZOS)

    digest = hashlib.sha256(source).digest()
    rng = _Rng(_material("vary", digest, seed, size[0], size[1]))
    shift = rng.randint(40, 216)  # hue units out of 256: always a visible shift
    sat = rng.uniform(0.9, 1.25)
    hue, s, v = base.convert("RGB").convert("HSV").split()
    hue = hue.point([(i + shift) % 256 for i in range(256)])
    s = s.point([min(255, round(i * sat)) for i in range(256)])
    out = Image.merge("HSV", (hue, s, v)).convert("RGBA")
    out.putalpha(base.getchannel("A"))
    scene = _build_scene(rng, size[0], size[1], "", n_shapes=(2, 4), alpha=(90, 170))
    _paint(out, scene)

    keep_alpha = fmt != "jpeg" and out.getchannel("A").getextrema()[0] < 255
    if not keep_alpha:
        out = _flatten(out)
    if fmt == "svg":
        return _raster_svg(out, title="variation")
    return _encode(out, fmt)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _check_format(output_format: str | None) -> str:
    fmt = "png" if output_format is None else str(output_format).lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(
            f"unsupported output_format {output_format!r}; expected one of {sorted(OUTPUT_FORMATS)}"
        )
    return fmt


def _check_background(background: str | None, fmt: str) -> bool:
    """Return True for a transparent background (None means "auto")."""
    if background is None:
        background = "auto"
    if background not in BACKGROUNDS:
        raise ValueError(
            f"unsupported background {background!r}; expected one of {sorted(BACKGROUNDS)}"
        )
    if background == "transparent" and fmt == "jpeg":
        raise ValueError("background 'transparent' is not supported with output_format 'jpeg'")
    return background == "transparent"


def _check_dim(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise ValueError(f"{name} must be between {MIN_SIZE} and {MAX_SIZE}, got {value}")
    return value


def _check_seed(seed: object) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")


def _target_size(
    src_size: tuple[int, int], width: int | None, height: int | None
) -> tuple[int, int]:
    """Output size for edit/vary: as given, derived from the aspect ratio, or the source's."""
    if width is None and height is None:
        return src_size
    sw, sh = src_size
    if width is None:
        height = _check_dim("height", height)
        width = min(MAX_SIZE, max(MIN_SIZE, round(sw * height / sh)))
    elif height is None:
        width = _check_dim("width", width)
        height = min(MAX_SIZE, max(MIN_SIZE, round(sh * width / sw)))
    return _check_dim("width", width), _check_dim("height", height)


# --------------------------------------------------------------------------
# Deterministic randomness
# --------------------------------------------------------------------------


def _material(kind: str, *parts: object) -> bytes:
    """Unambiguous (length-prefixed) hash input for one request."""
    h = hashlib.sha256(_VERSION)
    for part in (kind, *parts):
        if isinstance(part, bytes):
            data = part
        elif part is None:
            data = b"\x00none"
        else:
            data = str(part).encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.digest()


class _Rng:
    """SHA-256 in counter mode: stable across Python versions, unlike ``random``."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._counter = 0
        self._buf = b""

    def _take(self, n: int) -> bytes:
        while len(self._buf) < n:
            self._buf += hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def random(self) -> float:
        """Uniform float in [0, 1)."""
        return (int.from_bytes(self._take(7), "big") >> 3) / float(1 << 53)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def randint(self, a: int, b: int) -> int:
        """Uniform integer in [a, b]."""
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: tuple) -> object:  # type: ignore[type-arg]
        return seq[self.randint(0, len(seq) - 1)]


# --------------------------------------------------------------------------
# Scene description (shared by the raster and SVG back ends)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    kind: str  # "ellipse" | "ring" | "rect" | "polygon"
    xy: tuple[float, ...]  # ellipse/ring/rect: (x0, y0, x1, y1); polygon: x, y pairs
    color: RGB
    alpha: int
    stroke: float = 0.0  # ring width (drawn inside the bounding box)
    radius: float = 0.0  # rect corner radius


@dataclass(frozen=True)
class _Caption:
    box: tuple[float, float, float, float]
    radius: float
    color: RGB
    alpha: int
    font_size: int
    x: float
    lines: tuple[str, ...]
    baselines: tuple[float, ...]


@dataclass(frozen=True)
class _Scene:
    width: int
    height: int
    gradient: str  # "vertical" | "horizontal" | "diagonal" | "radial"
    bg: tuple[RGB, RGB]
    tint: RGB
    shapes: tuple[_Shape, ...]
    caption: _Caption | None


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(1.0, max(0.0, s)), min(1.0, max(0.0, v)))
    return (round(r * 255), round(g * 255), round(b * 255))


def _r(v: float) -> float:
    return round(v, 1)


def _build_scene(
    rng: _Rng,
    width: int,
    height: int,
    prompt: str,
    *,
    n_shapes: tuple[int, int],
    alpha: tuple[int, int],
) -> _Scene:
    """Derive palette, background, shapes and caption layout from *rng*.

    All shapes stay inside a margin, so with a transparent background the
    frame around the picture is always fully transparent.
    """
    hue = rng.random()
    offsets: tuple[float, ...] = rng.choice(_HARMONIES)  # type: ignore[assignment]
    sat = rng.uniform(0.5, 0.9)
    val = rng.uniform(0.75, 0.97)
    palette = [
        _hsv(hue + o + rng.uniform(-0.02, 0.02), sat * rng.uniform(0.8, 1.15), val * rng.uniform(0.8, 1.05))
        for o in offsets
    ]
    if rng.random() < 0.5:  # dark theme
        bg = (
            _hsv(hue + offsets[1], sat * 0.7, rng.uniform(0.1, 0.22)),
            _hsv(hue, sat * 0.85, rng.uniform(0.35, 0.55)),
        )
    else:
        bg = (
            _hsv(hue, sat * 0.3, rng.uniform(0.88, 0.98)),
            _hsv(hue + offsets[2], sat * 0.6, rng.uniform(0.6, 0.8)),
        )
    gradient: str = rng.choice(("vertical", "horizontal", "diagonal", "radial"))  # type: ignore[assignment]

    margin = max(2.0, float(round(min(width, height) * 0.03)))
    unit = math.sqrt(width * height)
    kinds = ("ellipse", "ellipse", "ring", "rect", "polygon", "polygon", "band")
    shapes = []
    for i in range(rng.randint(*n_shapes)):
        color = palette[(i + rng.randint(0, 1)) % len(palette)]
        kind: str = rng.choice(kinds)  # type: ignore[assignment]
        shapes.append(_make_shape(rng, kind, width, height, margin, unit, color, rng.randint(*alpha)))

    caption = _layout_caption(prompt, width, height, margin, _hsv(hue, 0.4, 0.12))
    return _Scene(width, height, gradient, bg, palette[0], tuple(shapes), caption)


def _make_shape(
    rng: _Rng, kind: str, w: int, h: int, m: float, unit: float, color: RGB, alpha: int
) -> _Shape:
    aw, ah = w - 2 * m, h - 2 * m  # available area inside the margin
    if kind in ("ellipse", "ring"):
        r = unit * rng.uniform(0.07, 0.26)
        rx = min(r * rng.uniform(0.8, 1.25), aw / 2)
        ry = min(r * rng.uniform(0.8, 1.25), ah / 2)
        cx = rng.uniform(m + rx, w - m - rx)
        cy = rng.uniform(m + ry, h - m - ry)
        xy = (_r(cx - rx), _r(cy - ry), _r(cx + rx), _r(cy + ry))
        if kind == "ring":
            stroke = _r(max(1.5, min(rx, ry) * rng.uniform(0.1, 0.3)))
            return _Shape("ring", xy, color, alpha, stroke=stroke)
        return _Shape("ellipse", xy, color, alpha)
    if kind == "rect":
        rw = min(unit * rng.uniform(0.1, 0.42), aw)
        rh = min(unit * rng.uniform(0.1, 0.42), ah)
        x0 = rng.uniform(m, w - m - rw)
        y0 = rng.uniform(m, h - m - rh)
        radius = _r(min(rw, rh) * rng.uniform(0.0, 0.3))
        return _Shape("rect", (_r(x0), _r(y0), _r(x0 + rw), _r(y0 + rh)), color, alpha, radius=radius)
    if kind == "band":  # slanted stripe across the available width
        bh = min(h * rng.uniform(0.04, 0.12), ah)
        skew = max(-(ah - bh), min(ah - bh, h * rng.uniform(-0.15, 0.15)))
        y0 = rng.uniform(m - min(0.0, skew), h - m - bh - max(0.0, skew))
        pts = (m, y0, w - m, y0 + skew, w - m, y0 + skew + bh, m, y0 + bh)
        return _Shape("polygon", tuple(_r(p) for p in pts), color, alpha)
    # regular polygon or star
    r = min(unit * rng.uniform(0.07, 0.24), aw / 2, ah / 2)
    cx = rng.uniform(m + r, w - m - r)
    cy = rng.uniform(m + r, h - m - r)
    n = rng.randint(3, 7)
    star = rng.random() < 0.35
    rot = rng.uniform(0.0, 2 * math.pi)
    count = 2 * n if star else n
    pts_list: list[float] = []
    for k in range(count):
        rad = r * (0.45 if star and k % 2 else 1.0)
        ang = rot + 2 * math.pi * k / count
        pts_list += [_r(cx + rad * math.cos(ang)), _r(cy + rad * math.sin(ang))]
    return _Shape("polygon", tuple(pts_list), color, alpha)


def _clean_text(text: str) -> str:
    """Single-line text safe for drawing and for XML 1.0 (control characters become spaces)."""
    return _WS.sub(" ", _BAD_CHARS.sub(" ", text)).strip()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled default font (a fresh object per call: thread-safe, ~0.2 ms)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # old Pillow or no FreeType
        return ImageFont.load_default()


def _fit_prefix(word: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_w: float) -> int:
    """Length of the longest prefix of *word* that fits (at least 1)."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(word[:mid]) <= max_w:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _wrap(
    text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_w: float, max_lines: int
) -> list[str]:
    """Greedy word wrap into at most *max_lines*, ending with an ellipsis when truncated."""
    truncated = len(text) > _MAX_CAPTION_CHARS
    if truncated:
        text = text[:_MAX_CAPTION_CHARS]
    lines: list[str] = []
    cur = ""
    for word in text.split(" "):
        while font.getlength(word) > max_w:  # hard-break over-long words
            if cur:
                lines.append(cur)
                cur = ""
            cut = max(1, _fit_prefix(word, font, max_w))
            lines.append(word[:cut])
            word = word[cut:]
        cand = f"{cur} {word}" if cur else word
        if font.getlength(cand) <= max_w:
            cur = cand
        else:
            lines.append(cur)
            cur = word
        if len(lines) > max_lines:
            break
    else:
        if cur:
            lines.append(cur)
    if len(lines) > max_lines:
        lines, truncated = lines[:max_lines], True
    if truncated:
        last = lines[-1]
        while last and font.getlength(last + _ELLIPSIS) > max_w:
            last = last[:-1]
        lines[-1] = last.rstrip() + _ELLIPSIS
    return lines


def _layout_caption(prompt: str, width: int, height: int, margin: float, color: RGB) -> _Caption | None:
    text = _clean_text(prompt)
    if not text:
        return None
    fs = int(max(9, min(48, width / 20, height / 8)))
    font = _font(fs)
    pad = max(2, round(fs * 0.5))
    lh = round(fs * 1.25)
    max_w = width - 2 * margin - 2 * pad
    if max_w < fs:  # too small for any caption (e.g. an edit of a 1x1 image)
        return None
    max_lines = max(1, min(4, int((height * 0.45 - 2 * pad) // lh)))
    lines = _wrap(text, font, max_w, max_lines)
    ascent, descent = font.getmetrics()
    panel_h = len(lines) * lh + 2 * pad
    top = height - margin - panel_h
    box = (margin, _r(top), width - margin, height - margin)
    first = top + pad + (lh - ascent - descent) / 2 + ascent
    baselines = tuple(_r(first + i * lh) for i in range(len(lines)))
    return _Caption(box, _r(pad * 0.8), color, 175, fs, margin + pad, tuple(lines), baselines)


# --------------------------------------------------------------------------
# Raster back end
# --------------------------------------------------------------------------


def _gradient(scene: _Scene) -> Image.Image:
    """Opaque RGBA background gradient: a 256x256 ramp, resized, mapped through per-channel LUTs."""
    ramp = Image.linear_gradient("L")  # black at the top, white at the bottom
    if scene.gradient == "horizontal":
        ramp = ramp.transpose(Image.Transpose.ROTATE_90)
    elif scene.gradient == "diagonal":
        ramp = Image.blend(ramp, ramp.transpose(Image.Transpose.ROTATE_90), 0.5)
    elif scene.gradient == "radial":
        ramp = Image.radial_gradient("L")  # black centre, white corners
    size = (scene.width, scene.height)
    ramp = ramp.resize(size, Image.Resampling.BILINEAR)
    (r0, g0, b0), (r1, g1, b1) = scene.bg
    bands = [
        ramp.point([round(a + (b - a) * i / 255) for i in range(256)])
        for a, b in ((r0, r1), (g0, g1), (b0, b1))
    ]
    return Image.merge("RGBA", (*bands, Image.new("L", size, 255)))


def _shape_bbox(shape: _Shape) -> tuple[float, float, float, float]:
    xs, ys = shape.xy[0::2], shape.xy[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _paint(canvas: Image.Image, scene: _Scene) -> None:
    """Alpha-composite the scene's shapes and caption onto an RGBA *canvas* in place."""
    for shape in scene.shapes:
        _paint_shape(canvas, shape)
    if scene.caption is not None:
        _paint_caption(canvas, scene.caption)


def _paint_shape(canvas: Image.Image, shape: _Shape) -> None:
    """Draw one shape as a supersampled alpha mask sized to its bounding box, then composite."""
    x0, y0, x1, y1 = _shape_bbox(shape)
    bx0, by0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    bx1, by1 = min(canvas.width, math.ceil(x1) + 1), min(canvas.height, math.ceil(y1) + 1)
    if bx1 <= bx0 or by1 <= by0:
        return
    mask = Image.new("L", ((bx1 - bx0) * _SS, (by1 - by0) * _SS), 0)
    draw = ImageDraw.Draw(mask)
    pts = [
        ((shape.xy[i] - bx0) * _SS, (shape.xy[i + 1] - by0) * _SS) for i in range(0, len(shape.xy), 2)
    ]
    if shape.kind == "ellipse":
        draw.ellipse(pts, fill=shape.alpha)
    elif shape.kind == "ring":
        draw.ellipse(pts, outline=shape.alpha, width=max(1, round(shape.stroke * _SS)))
    elif shape.kind == "rect":
        draw.rounded_rectangle(pts, radius=shape.radius * _SS, fill=shape.alpha)
    else:
        draw.polygon(pts, fill=shape.alpha)
    mask = mask.reduce(_SS)
    layer = Image.new("RGBA", mask.size, shape.color)
    layer.putalpha(mask)
    canvas.alpha_composite(layer, dest=(bx0, by0))


def _paint_caption(canvas: Image.Image, cap: _Caption) -> None:
    x0, y0, x1, y1 = cap.box
    bx0, by0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    bx1, by1 = min(canvas.width, math.ceil(x1)), min(canvas.height, math.ceil(y1))
    if bx1 <= bx0 or by1 <= by0:
        return
    layer = Image.new("RGBA", (bx1 - bx0, by1 - by0), cap.color + (0,))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle(
        (x0 - bx0, y0 - by0, x1 - bx0 - 1, y1 - by0 - 1), radius=cap.radius, fill=cap.color + (cap.alpha,)
    )
    font = _font(cap.font_size)
    for line, baseline in zip(cap.lines, cap.baselines):
        draw.text((cap.x - bx0, baseline - by0), line, font=font, fill=_TEXT + (255,), anchor="ls")
    canvas.alpha_composite(layer, dest=(bx0, by0))


def _tint(base: Image.Image, color: RGB, amount: float) -> Image.Image:
    """Blend the RGB channels of an RGBA image towards *color*, keeping its alpha."""
    rgb = Image.blend(base.convert("RGB"), Image.new("RGB", base.size, color), amount)
    out = rgb.convert("RGBA")
    out.putalpha(base.getchannel("A"))
    return out


def _flatten(im: Image.Image) -> Image.Image:
    """RGBA -> RGB over white."""
    alpha = im.getchannel("A")
    if alpha.getextrema()[0] == 255:
        return im.convert("RGB")
    out = Image.new("RGB", im.size, _WHITE)
    out.paste(im.convert("RGB"), (0, 0), alpha)
    return out


def _encode(im: Image.Image, fmt: str) -> bytes:
    """Encode with fixed settings and no metadata, so output is reproducible."""
    im.info = {}  # never carry icc/exif/dpi from a source image into the output
    buf = io.BytesIO()
    if fmt == "png":
        im.save(buf, "PNG", compress_level=_PNG_COMPRESS_LEVEL)
    elif fmt == "jpeg":
        if im.mode != "RGB":
            im = im.convert("RGB")
        im.save(buf, "JPEG", quality=_JPEG_QUALITY, subsampling=0, optimize=False, progressive=False)
    elif fmt == "webp":
        im.save(buf, "WEBP", quality=_WEBP_QUALITY, lossless=False, method=_WEBP_METHOD)
    else:  # pragma: no cover - callers handle svg before encoding
        raise ValueError(f"cannot raster-encode {fmt!r}")
    return buf.getvalue()


# --------------------------------------------------------------------------
# Source images
# --------------------------------------------------------------------------


def _open_image(data: bytes, what: str, formats: tuple[str, ...]) -> Image.Image:
    """Decode untrusted image bytes, turning every decoder failure into ValueError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"{what} must be bytes")
    names = ", ".join(formats)
    try:
        im = Image.open(io.BytesIO(bytes(data)), formats=formats)
    except Exception as exc:  # Pillow raises many exception types on bad input
        raise ValueError(f"{what} is not a readable image ({names})") from exc
    w, h = im.size
    if w < 1 or h < 1 or w * h > _MAX_SOURCE_PIXELS:
        raise ValueError(f"{what} image size {w}x{h} is not supported")
    try:
        im.load()
    except Exception as exc:
        raise ValueError(f"{what} image data is corrupt or truncated") from exc
    return im


def _to_rgba(im: Image.Image) -> Image.Image:
    try:
        return im.convert("RGBA")
    except ValueError:  # exotic modes (e.g. "La")
        return im.convert("RGB").convert("RGBA")


def _editable_region(mask: bytes, size: tuple[int, int]) -> Image.Image:
    """L image: 255 where the mask is fully transparent (edit here), 0 elsewhere."""
    im = _open_image(mask, "mask", _MASK_FORMATS)
    if im.size != size:
        raise ValueError(
            f"mask size {im.size[0]}x{im.size[1]} does not match source size {size[0]}x{size[1]}"
        )
    if "A" not in im.getbands() and "a" not in im.getbands() and "transparency" not in im.info:
        raise ValueError("mask must have an alpha channel")
    alpha = _to_rgba(im).getchannel("A")
    return alpha.point([255] + [0] * 255)


# --------------------------------------------------------------------------
# SVG back end
# --------------------------------------------------------------------------


def _esc(text: str) -> str:
    """Escape text for XML content and double-quoted attributes."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _num(v: float) -> str:
    s = f"{v:.1f}"
    s = s[:-2] if s.endswith(".0") else s
    return "0" if s == "-0" else s


def _hex(c: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def _opacity(alpha: int) -> str:
    return f"{alpha / 255:.3f}".rstrip("0").rstrip(".")


def _svg_open(width: int, height: int, title: str) -> list[str]:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
    ]
    clean = _clean_text(title)[:_MAX_TITLE_CHARS]
    if clean:
        parts.append(f"<title>{_esc(clean)}</title>")
    return parts


def _scene_svg(scene: _Scene, *, transparent: bool, title: str) -> bytes:
    """The scene as vector SVG: same gradient, shapes and caption as the raster output."""
    w, h = scene.width, scene.height
    parts = _svg_open(w, h, title)
    if not transparent:
        c0, c1 = _hex(scene.bg[0]), _hex(scene.bg[1])
        stops = f'<stop offset="0" stop-color="{c0}"/><stop offset="1" stop-color="{c1}"/>'
        if scene.gradient == "radial":
            grad = f'<radialGradient id="bg" cx="0.5" cy="0.5" r="0.7071">{stops}</radialGradient>'
        else:
            x2, y2 = {"vertical": (0, 1), "horizontal": (1, 0), "diagonal": (1, 1)}[scene.gradient]
            grad = f'<linearGradient id="bg" x1="0" y1="0" x2="{x2}" y2="{y2}">{stops}</linearGradient>'
        parts.append(f"<defs>{grad}</defs>")
        parts.append(f'<rect x="0" y="0" width="{w}" height="{h}" fill="url(#bg)"/>')
    for shape in scene.shapes:
        parts.append(_svg_shape(shape))
    cap = scene.caption
    if cap is not None:
        x0, y0, x1, y1 = cap.box
        parts.append(
            f'<rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(x1 - x0)}" height="{_num(y1 - y0)}" '
            f'rx="{_num(cap.radius)}" fill="{_hex(cap.color)}" fill-opacity="{_opacity(cap.alpha)}"/>'
        )
        spans = "".join(
            f'<tspan x="{_num(cap.x)}" y="{_num(b)}">{_esc(line)}</tspan>'
            for line, b in zip(cap.lines, cap.baselines)
        )
        parts.append(
            f'<text font-family="sans-serif" font-size="{cap.font_size}" fill="{_hex(_TEXT)}">{spans}</text>'
        )
    parts.append("</svg>")
    return ("\n".join(parts) + "\n").encode("utf-8")


def _svg_shape(shape: _Shape) -> str:
    color, opacity = _hex(shape.color), _opacity(shape.alpha)
    if shape.kind in ("ellipse", "ring"):
        x0, y0, x1, y1 = shape.xy
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        if shape.kind == "ring":  # Pillow strokes inside the box; SVG strokes centred on the path
            half = shape.stroke / 2
            return (
                f'<ellipse cx="{_num(cx)}" cy="{_num(cy)}" rx="{_num(rx - half)}" ry="{_num(ry - half)}" '
                f'fill="none" stroke="{color}" stroke-width="{_num(shape.stroke)}" '
                f'stroke-opacity="{opacity}"/>'
            )
        return (
            f'<ellipse cx="{_num(cx)}" cy="{_num(cy)}" rx="{_num(rx)}" ry="{_num(ry)}" '
            f'fill="{color}" fill-opacity="{opacity}"/>'
        )
    if shape.kind == "rect":
        x0, y0, x1, y1 = shape.xy
        return (
            f'<rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(x1 - x0)}" height="{_num(y1 - y0)}" '
            f'rx="{_num(shape.radius)}" fill="{color}" fill-opacity="{opacity}"/>'
        )
    pts = " ".join(f"{_num(shape.xy[i])},{_num(shape.xy[i + 1])}" for i in range(0, len(shape.xy), 2))
    return f'<polygon points="{pts}" fill="{color}" fill-opacity="{opacity}"/>'


def _raster_svg(im: Image.Image, *, title: str) -> bytes:
    """SVG for a raster result (edit/vary): a mosaic of at most 64 cells on the long side.

    The gateway's SVG sanitiser drops every non-fragment ``href``, so a
    data-URI ``<image>`` would not survive; plain ``<rect>`` elements do.
    Equal neighbouring cells in a row are merged into one rect.
    """
    w, h = im.size
    cell = max(1, math.ceil(max(w, h) / _MOSAIC_CELLS))
    gw, gh = math.ceil(w / cell), math.ceil(h / cell)
    small = im.convert("RGBA").resize((gw, gh), Image.Resampling.BOX)
    small = small.point([min(255, (i + 4) & ~7) for i in range(256)] * 4)  # merge near-equal cells
    data = small.tobytes()
    parts = _svg_open(w, h, title)
    parts.append('<g shape-rendering="crispEdges">')
    for gy in range(gh):
        row = data[gy * gw * 4 : (gy + 1) * gw * 4]
        y, ch = gy * cell, min(cell, h - gy * cell)
        gx = 0
        while gx < gw:
            px = row[gx * 4 : gx * 4 + 4]
            end = gx + 1
            while end < gw and row[end * 4 : end * 4 + 4] == px:
                end += 1
            if px[3]:
                x = gx * cell
                cw = min(end * cell, w) - x
                opacity = "" if px[3] == 255 else f' fill-opacity="{_opacity(px[3])}"'
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{cw}" height="{ch}" '
                    f'fill="{_hex((px[0], px[1], px[2]))}"{opacity}/>'
                )
            gx = end
    parts.append("</g>")
    parts.append("</svg>")
    return ("\n".join(parts) + "\n").encode("utf-8")
