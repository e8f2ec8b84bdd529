"""Tests for the offline placeholder renderer (imagegate._default_plugins.placeholder_render)."""

from __future__ import annotations

import io

import defusedxml.ElementTree as DET
import pytest
from PIL import Image, ImageChops

from imagegate._default_plugins import placeholder_render as pr

SVG = "{http://www.w3.org/2000/svg}"
RASTER = ("png", "jpeg", "webp")
PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def image_bytes(im: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def source_png(width: int = 160, height: int = 120) -> bytes:
    """A non-trivial opaque source picture: horizontal gradient with a block."""
    im = Image.linear_gradient("L").rotate(90).resize((width, height)).convert("RGB")
    im.paste((200, 40, 40), (width // 4, height // 4, width // 2, height // 2))
    return image_bytes(im)


def pixels(data: bytes) -> bytes:
    return decode(data).convert("RGBA").tobytes()


# --- render -------------------------------------------------------------------


def test_different_prompts_give_different_pixels() -> None:
    a = pr.render("a red fox in the snow", width=256, height=256)
    b = pr.render("a blue whale in the ocean", width=256, height=256)
    assert pixels(a) != pixels(b)


def test_seed_changes_the_picture() -> None:
    a = pr.render("same prompt", width=256, height=256, seed=1)
    b = pr.render("same prompt", width=256, height=256, seed=2)
    c = pr.render("same prompt", width=256, height=256)
    assert len({pixels(a), pixels(b), pixels(c)}) == 3


@pytest.mark.parametrize("fmt", [*RASTER, "svg"])
@pytest.mark.parametrize("seed", [None, 7])
def test_render_is_byte_identical_for_same_inputs(fmt: str, seed: int | None) -> None:
    kwargs = dict(width=320, height=200, output_format=fmt, seed=seed)
    assert pr.render("a lighthouse at dusk", **kwargs) == pr.render("a lighthouse at dusk", **kwargs)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparent_render_is_byte_identical(fmt: str) -> None:
    kwargs = dict(width=200, height=200, output_format=fmt, background="transparent", seed=3)
    assert pr.render("glass orb", **kwargs) == pr.render("glass orb", **kwargs)


@pytest.mark.parametrize("size", [(64, 64), (64, 2048), (2048, 64), (1024, 1024), (1536, 1024), (333, 517)])
@pytest.mark.parametrize("fmt", RASTER)
def test_exact_size(size: tuple[int, int], fmt: str) -> None:
    width, height = size
    prompt = "size check with a longer prompt to wrap"
    im = decode(pr.render(prompt, width=width, height=height, output_format=fmt))
    assert im.size == size


@pytest.mark.parametrize("size", [(64, 2048), (1024, 768)])
def test_svg_size_attributes(size: tuple[int, int]) -> None:
    width, height = size
    root = DET.fromstring(pr.render("svg size", width=width, height=height, output_format="svg"))
    assert root.get("width") == str(width)
    assert root.get("height") == str(height)
    assert root.get("viewBox") == f"0 0 {width} {height}"


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [("png", b"\x89PNG\r\n\x1a\n"), ("jpeg", b"\xff\xd8\xff"), ("webp", b"RIFF")],
)
def test_raster_magic_and_detected_format(fmt: str, magic: bytes) -> None:
    data = pr.render("format check", width=128, height=96, output_format=fmt)
    assert data.startswith(magic)
    if fmt == "webp":
        assert data[8:12] == b"WEBP"
    assert decode(data).format == PIL_FORMAT[fmt]


def test_svg_magic() -> None:
    data = pr.render("format check", width=128, height=96, output_format="svg")
    assert data.startswith(b"<?xml")
    assert DET.fromstring(data).tag == SVG + "svg"


@pytest.mark.parametrize("fmt", ["png", "webp"])
@pytest.mark.parametrize("size", [(64, 64), (256, 256), (64, 2048)])
def test_transparent_has_real_alpha(fmt: str, size: tuple[int, int]) -> None:
    im = decode(pr.render("transparent sticker", width=size[0], height=size[1], output_format=fmt,
                          background="transparent"))
    assert im.mode == "RGBA"
    alpha = im.getchannel("A")
    assert alpha.getextrema()[0] == 0  # transparent background pixels
    drawn = sum(alpha.histogram()[1:])
    assert drawn > 0.2 * size[0] * size[1]  # but a real picture is drawn on it


@pytest.mark.parametrize("fmt", RASTER)
@pytest.mark.parametrize("background", ["opaque", "auto"])
def test_opaque_has_no_alpha(fmt: str, background: str) -> None:
    im = decode(pr.render("opaque poster", width=200, height=150, output_format=fmt, background=background))
    assert "A" not in im.getbands()
    assert "transparency" not in im.info


@pytest.mark.parametrize("fmt", RASTER)
def test_not_a_solid_fill(fmt: str) -> None:
    im = decode(pr.render("a busy market street", width=256, height=256, output_format=fmt)).convert("RGB")
    colors = im.getcolors(maxcolors=256 * 256)
    assert colors is not None and len(colors) > 100
    # and not one colour dominating nearly everything
    assert max(count for count, _ in colors) < 0.5 * 256 * 256


def test_svg_escapes_prompt_and_is_inert() -> None:
    prompt = 'evil <script>alert(1)</script> & "quotes"'
    data = pr.render(prompt, width=400, height=300, output_format="svg")
    root = DET.fromstring(data)
    tags = {el.tag for el in root.iter()}
    assert SVG + "script" not in tags
    assert SVG + "text" in tags
    assert b"<script" not in data
    text = "".join(root.find(SVG + "text").itertext())
    assert "<script>" in text and "&" in text and '"quotes"' in text
    assert root.find(SVG + "title").text == prompt
    for el in root.iter():
        for key, value in el.attrib.items():
            assert not key.lower().startswith("on")
            if key.endswith("href") or "url(" in value:
                assert value.startswith("#") or value.startswith("url(#")


def test_svg_has_shapes_and_background_rect_only_when_opaque() -> None:
    opaque = DET.fromstring(pr.render("shapes", width=300, height=300, output_format="svg"))
    clear = DET.fromstring(pr.render("shapes", width=300, height=300, output_format="svg",
                                     background="transparent"))

    def bg_rects(root) -> list:
        return [el for el in root.iter(SVG + "rect") if el.get("fill") == "url(#bg)"]

    assert len(bg_rects(opaque)) == 1
    assert bg_rects(clear) == []
    shapes = [el for el in opaque.iter() if el.tag in {SVG + "ellipse", SVG + "polygon", SVG + "rect"}]
    assert len(shapes) >= 5


def test_svg_control_characters_stay_well_formed() -> None:
    data = pr.render("nul\x00 bell\x07 tab\t surrogate\ud800 end", width=200, height=200, output_format="svg")
    text = "".join(DET.fromstring(data).find(SVG + "text").itertext())
    assert "nul" in text and "end" in text


def test_svg_passes_gateway_sanitizer_unchanged() -> None:
    svg_safety = pytest.importorskip("imagegate._svg_safety")
    for data in (
        pr.render('a <b>&"', width=300, height=200, output_format="svg"),
        pr.render("clear", width=300, height=200, output_format="svg", background="transparent"),
        pr.edit(source_png(), "edit", width=None, height=None, output_format="svg"),
        pr.vary(source_png(), width=None, height=None, output_format="svg"),
    ):
        before = len(list(DET.fromstring(data).iter()))
        after = len(list(DET.fromstring(svg_safety.sanitize_svg(data)).iter()))
        assert before == after


def test_long_and_empty_prompts_render() -> None:
    long_prompt = " ".join(["word"] * 5000) + " " + "x" * 3000
    assert decode(pr.render(long_prompt, width=64, height=64)).size == (64, 64)
    assert decode(pr.render(long_prompt, width=512, height=512)).size == (512, 512)
    assert decode(pr.render("", width=128, height=128)).size == (128, 128)


def test_jpeg_transparent_is_rejected() -> None:
    with pytest.raises(ValueError, match="transparent"):
        pr.render("x", width=128, height=128, output_format="jpeg", background="transparent")
    with pytest.raises(ValueError, match="transparent"):
        pr.edit(source_png(), "x", width=None, height=None, output_format="jpeg", background="transparent")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(width=63, height=128),
        dict(width=128, height=2049),
        dict(width=128.0, height=128),
        dict(width=128, height=128, output_format="gif"),
        dict(width=128, height=128, background="checkered"),
        dict(width=128, height=128, seed="1"),
    ],
)
def test_invalid_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        pr.render("x", **kwargs)


# --- edit ---------------------------------------------------------------------


def test_edit_changes_image_and_keeps_size() -> None:
    src = source_png(160, 120)
    out = pr.edit(src, "add a moon", width=None, height=None)
    assert decode(out).size == (160, 120)
    assert pixels(out) != pixels(src)
    assert out == pr.edit(src, "add a moon", width=None, height=None)
    assert pixels(out) != pixels(pr.edit(src, "add a sun", width=None, height=None))


def test_edit_resizes_when_asked() -> None:
    src = source_png(160, 120)
    assert decode(pr.edit(src, "x", width=256, height=128)).size == (256, 128)
    assert decode(pr.edit(src, "x", width=320, height=None)).size == (320, 240)  # keeps aspect


@pytest.mark.parametrize("fmt", RASTER)
def test_edit_formats(fmt: str) -> None:
    im = decode(pr.edit(source_png(), "x", width=None, height=None, output_format=fmt))
    assert im.format == PIL_FORMAT[fmt]
    assert "A" not in im.getbands()


def test_edit_with_mask_changes_only_transparent_region() -> None:
    width, height = 200, 100
    src = source_png(width, height)
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, width // 2, height))  # left half transparent: edit here
    out = pr.edit(src, "paint a dragon", width=None, height=None, mask=image_bytes(mask))
    out = decode(out).convert("RGB")
    before = decode(src).convert("RGB")
    left = (0, 0, width // 2, height)
    right = (width // 2, 0, width, height)
    assert out.crop(right).tobytes() == before.crop(right).tobytes()
    diff = ImageChops.difference(out.crop(left), before.crop(left)).convert("L")
    changed = sum(diff.histogram()[1:])
    assert changed > 0.5 * (width // 2) * height


def test_edit_mask_must_match_source_size() -> None:
    mask = image_bytes(Image.new("RGBA", (50, 50), (0, 0, 0, 0)))
    with pytest.raises(ValueError, match="mask size"):
        pr.edit(source_png(160, 120), "x", width=None, height=None, mask=mask)


def test_edit_mask_needs_alpha() -> None:
    mask = image_bytes(Image.new("RGB", (160, 120), (0, 0, 0)))
    with pytest.raises(ValueError, match="alpha"):
        pr.edit(source_png(160, 120), "x", width=None, height=None, mask=mask)


def test_edit_transparent_keeps_source_alpha() -> None:
    src = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    src.paste((20, 200, 20, 255), (32, 32, 96, 96))
    out = decode(pr.edit(image_bytes(src), "x", width=None, height=None, background="transparent"))
    assert out.mode == "RGBA"
    assert out.getchannel("A").getextrema()[0] == 0
    flat = decode(pr.edit(image_bytes(src), "x", width=None, height=None))
    assert "A" not in flat.getbands()


def test_edit_rejects_unreadable_source() -> None:
    with pytest.raises(ValueError):
        pr.edit(b"not an image", "x", width=None, height=None)


# --- vary ---------------------------------------------------------------------


def test_vary_differs_from_source_and_keeps_size() -> None:
    src = source_png(150, 90)
    out = pr.vary(src, width=None, height=None)
    assert decode(out).size == (150, 90)
    assert pixels(out) != pixels(src)
    assert out == pr.vary(src, width=None, height=None)


def test_vary_seed_and_resize() -> None:
    src = source_png(150, 90)
    a = pr.vary(src, width=None, height=None, seed=1)
    b = pr.vary(src, width=None, height=None, seed=2)
    assert pixels(a) != pixels(b)
    assert decode(pr.vary(src, width=64, height=256)).size == (64, 256)


def test_vary_grayscale_source_still_changes() -> None:
    src = image_bytes(Image.new("L", (128, 128), 128))
    assert pixels(pr.vary(src, width=None, height=None)) != pixels(src)


@pytest.mark.parametrize("fmt", RASTER)
def test_vary_formats(fmt: str) -> None:
    im = decode(pr.vary(source_png(), width=None, height=None, output_format=fmt))
    assert im.format == PIL_FORMAT[fmt]
    assert im.size == (160, 120)

