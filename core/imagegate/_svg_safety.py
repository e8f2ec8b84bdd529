"""Hardened parsing and sanitising of provider-produced SVG.

Some providers (e.g. Replicate's ``recraft-v3-svg``) return SVG, which the gateway stores and
later serves to browsers. SVG is an active document format: it can carry scripts, event-handler
attributes, ``javascript:`` links, external resource loads (tracking, CSS exfiltration) and
embedded XHTML, and as XML it is exposed to DTD/entity attacks (XXE, billion laughs). Every SVG is
therefore parsed once with :mod:`defusedxml` and either cleaned of anything active or external, or
rejected with :class:`UnsafeSVG`.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

__all__ = ["MAX_DEPTH", "UnsafeSVG", "sanitize_svg", "svg_dimensions"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Deeper trees are rejected: nobody draws like that, and ElementTree serialises recursively.
MAX_DEPTH = 256

_SVG_PREFIX = "{" + SVG_NS + "}"
_SVG_ROOT = _SVG_PREFIX + "svg"

# Elements dropped with their whole subtree (compared case-insensitively).
_BLOCKED_ELEMENTS = frozenset(
    name.lower()
    for name in (
        "script",
        "foreignObject",
        "iframe",
        "embed",
        "object",
        "audio",
        "video",
        "handler",
        "listener",
        "set",
        "animate",
        "animateMotion",
        "animateTransform",
        "animateColor",
        "discard",
    )
)
_ALLOWED_ATTR_NS = frozenset({"", XLINK_NS, XML_NS})

_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.S)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\r\n\f]?|(.))", re.S)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
_BAD_TOKENS = ("javascript:", "vbscript:", "expression(", "@import", "-moz-binding", "behavior:")
# CSS functions that fetch resources given a bare string; never needed for provider artwork.
_FETCHING_FUNCS = re.compile(r"(?<![\w-])(?:-webkit-image-set|image-set|image|cross-fade|src)\(")
_URL_FUNC = re.compile(r"url\(['\"]?(.?)")
_LENGTH = re.compile(
    r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(px|in|cm|mm|pt|pc)?\s*$", re.I
)
_PX_PER_UNIT = {
    "": 1.0, "px": 1.0, "in": 96.0, "cm": 96 / 2.54, "mm": 9.6 / 2.54, "pt": 4 / 3, "pc": 16.0
}


class UnsafeSVG(ValueError):
    """SVG that cannot be made safe (not XML, DTD/entities, not an <svg> root, too large)."""


def _unescape_css(m: re.Match[str]) -> str:
    if m.group(1) is None:
        return m.group(2)
    cp = int(m.group(1), 16)
    return chr(cp) if 0 < cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else "\ufffd"


def _is_dangerous(value: str) -> bool:
    """Whether an attribute value or stylesheet can run script or load a non-fragment resource."""
    # Fast path for the bulk of SVG (path data, numbers, colours): every dangerous construct
    # needs at least one of these characters.
    if not any(c in value for c in ":(@\\"):
        return False
    text = _CSS_COMMENT.sub("", value)
    if "\\" in text:
        text = _CSS_ESCAPE.sub(_unescape_css, text)
    text = _INVISIBLE.sub("", text).lower()
    if any(token in text for token in _BAD_TOKENS):
        return True
    if _FETCHING_FUNCS.search(text):
        return True
    return any(m.group(1) != "#" for m in _URL_FUNC.finditer(text))


def _split(name: str) -> tuple[str, str]:
    if name[:1] == "{":
        ns, _, local = name[1:].partition("}")
        return ns, local
    return "", name


def _keep_attr(key: str, value: str) -> bool:
    ns, local = _split(key)
    if ns not in _ALLOWED_ATTR_NS:
        return False  # foreign (incl. svg-qualified) attributes: never meaningful, may collide
    lower = local.lower()
    if lower.startswith("on"):
        return False
    if ns == XML_NS and lower == "base":
        return False
    if lower == "href" and not value.strip().startswith("#"):
        return False
    return not _is_dangerous(value)


def _drop_element(elem: ET.Element) -> bool:
    tag = elem.tag
    if not isinstance(tag, str) or not tag.startswith(_SVG_PREFIX):
        return True  # comments/PIs, non-SVG namespaces (XHTML, ...) or no namespace at all
    local = tag[len(_SVG_PREFIX) :].lower()
    if local in _BLOCKED_ELEMENTS:
        return True
    return local == "style" and _is_dangerous("".join(elem.itertext()))


def _clean_attrs(elem: ET.Element) -> None:
    attrib = elem.attrib
    if attrib and not all(_keep_attr(k, v) for k, v in attrib.items()):
        kept = {k: v for k, v in attrib.items() if _keep_attr(k, v)}
        attrib.clear()
        attrib.update(kept)


def _parse(data: bytes, max_bytes: int) -> ET.Element:
    if isinstance(data, str):
        raise TypeError("SVG must be bytes, not str")
    if len(data) > max_bytes:
        raise UnsafeSVG(f"SVG is {len(data)} bytes, over the {max_bytes}-byte limit")
    try:
        root = DET.fromstring(
            bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise UnsafeSVG(f"SVG uses a forbidden XML feature: {type(exc).__name__}") from None
    except (ET.ParseError, ValueError, LookupError) as exc:
        raise UnsafeSVG(f"SVG is not well-formed XML: {exc}") from None
    if root.tag != _SVG_ROOT:
        raise UnsafeSVG(f"root element is {root.tag!r}, not an SVG <svg>")
    return root


def _serialize(root: ET.Element) -> bytes:
    # Re-registered on each call in case other code re-mapped the prefixes since import.
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)


def sanitize_svg(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Return a cleaned, UTF-8 copy of ``data`` that is safe to serve to a browser.

    Scripts, event handlers, animation elements, embedded foreign content, non-fragment links and
    external CSS/resource references are removed; the drawing itself is kept. Raises
    :class:`UnsafeSVG` when the input is too large, not well-formed, uses a DTD or entities, nests
    deeper than :data:`MAX_DEPTH`, or its root is not an SVG ``<svg>`` element.
    """
    root = _parse(data, max_bytes)
    _clean_attrs(root)
    stack: list[tuple[ET.Element, int]] = [(root, 1)]
    while stack:
        elem, depth = stack.pop()
        if len(elem) == 0:
            continue
        if depth >= MAX_DEPTH:
            raise UnsafeSVG(f"SVG nests deeper than {MAX_DEPTH} elements")
        kept: list[ET.Element] = []
        tails: list[str] = []  # text after dropped children, re-attached to keep <text> content
        for child in elem:
            if _drop_element(child):
                if child.tail:
                    tails.append(child.tail)
                continue
            if tails:
                _attach_text(elem, kept, tails)
                tails = []
            _clean_attrs(child)
            kept.append(child)
            stack.append((child, depth + 1))
        if tails:
            _attach_text(elem, kept, tails)
        if len(kept) != len(elem):
            elem[:] = kept
    return _serialize(root)


def _attach_text(parent: ET.Element, kept: list[ET.Element], tails: list[str]) -> None:
    text = "".join(tails)
    if kept:
        kept[-1].tail = (kept[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _length_px(value: str | None) -> float | None:
    if value is None:
        return None
    m = _LENGTH.match(value)
    if not m:
        return None  # %, em, ex, auto, garbage
    px = float(m.group(1)) * _PX_PER_UNIT[(m.group(2) or "").lower()]
    return px if math.isfinite(px) and px > 0 else None


def _viewbox(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.replace(",", " ").split()
    if len(parts) != 4:
        return None
    try:
        w, h = float(parts[2]), float(parts[3])
    except ValueError:
        return None
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        return None
    return w, h


def _round(px: float | None) -> int | None:
    return None if px is None else int(math.floor(px + 0.5))


def svg_dimensions(data: bytes) -> tuple[int | None, int | None]:
    """Return the ``(width, height)`` in CSS pixels of an SVG document, each ``None`` if unknown.

    Uses the root's ``width``/``height`` (unitless, ``px`` or absolute units; ``%``/``em`` count as
    unknown), falling back to the ``viewBox`` size, or scaling by its aspect ratio when only one of
    the two is given. Fractional sizes round half up. Raises :class:`UnsafeSVG` for input that
    :func:`sanitize_svg` would reject outright.
    """
    root = _parse(data, DEFAULT_MAX_BYTES)
    width, height = _length_px(root.get("width")), _length_px(root.get("height"))
    vb = _viewbox(root.get("viewBox"))
    if vb is not None:
        vb_w, vb_h = vb
        if width is None and height is None:
            width, height = vb_w, vb_h
        elif height is not None and width is None:
            width = height * vb_w / vb_h
        elif width is not None and height is None:
            height = width * vb_h / vb_w
    return _round(width), _round(height)

