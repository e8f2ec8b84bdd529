"""Attack corpus and round-trip tests for imagegate._svg_safety."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

try:
    import imagegate._svg_safety  # noqa: F401
except ImportError:  # running from a checkout without an installed package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from imagegate._svg_safety import MAX_DEPTH, UnsafeSVG, sanitize_svg, svg_dimensions

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XHTML = "http://www.w3.org/1999/xhtml"
S = "{" + SVG + "}"
XL_HREF = "{" + XLINK + "}href"


def svg(body: str, attrs: str = "") -> bytes:
    return (
        f'<svg xmlns="{SVG}" xmlns:xlink="{XLINK}" width="100" height="100"{attrs}>'
        f"{body}</svg>"
    ).encode()


def parse(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def all_attrs(root: ET.Element) -> list[tuple[str, str, str]]:
    return [(el.tag, k, v) for el in root.iter() for k, v in el.attrib.items()]


def tags(root: ET.Element) -> set[str]:
    return {el.tag for el in root.iter()}


def no_element(local: str) -> Callable[[ET.Element], bool]:
    return lambda root: not any(
        isinstance(el.tag, str) and el.tag.split("}")[-1].lower() == local.lower()
        for el in root.iter()
    )


def no_attr_named(name: str) -> Callable[[ET.Element], bool]:
    return lambda root: all(k.split("}")[-1].lower() != name.lower() for _, k, _ in all_attrs(root))


def no_value_containing(needle: str) -> Callable[[ET.Element], bool]:
    return lambda root: all(needle.lower() not in v.lower() for _, _, v in all_attrs(root)) and all(
        needle.lower() not in (el.text or "").lower() for el in root.iter()
    )


def no_href() -> Callable[[ET.Element], bool]:
    return lambda root: all(k not in ("href", XL_HREF) for _, k, _ in all_attrs(root))


ATTACKS: list[tuple[str, bytes, Callable[[ET.Element], bool]]] = [
    ("script", svg("<script>alert(1)</script>"), no_element("script")),
    ("script-cdata", svg("<script><![CDATA[alert(1)]]></script>"), no_element("script")),
    ("script-xlink", svg('<script xlink:href="http://evil/x.js"/>'), no_element("script")),
    ("script-nested", svg("<g><g><script>alert(1)</script></g></g>"), no_element("script")),
    ("onload-root", svg("", ' onload="alert(1)"'), no_attr_named("onload")),
    ("onclick", svg('<rect width="5" height="5" onclick="alert(1)"/>'), no_attr_named("onclick")),
    ("ONMOUSEOVER", svg('<rect ONMOUSEOVER="alert(1)"/>'), no_attr_named("onmouseover")),
    (
        "a-href-js",
        svg('<a href="javascript:alert(1)"><text>x</text></a>'),
        no_value_containing("javascript"),
    ),
    (
        "a-xlink-js",
        svg('<a xlink:href="javascript:alert(1)"><text>x</text></a>'),
        no_value_containing("javascript"),
    ),
    ("a-href-js-obfuscated", svg('<a href=" jav&#x09;ascript:alert(1)">x</a>'), no_href()),
    ("a-href-js-upper", svg('<a href="JaVaScRiPt:alert(1)">x</a>'), no_href()),
    (
        "js-in-other-attr",
        svg('<rect data-x="javascript:alert(1)"/>'),
        no_value_containing("javascript"),
    ),
    ("image-data", svg('<image href="data:image/svg+xml;base64,PHN2Zz4="/>'), no_href()),
    ("image-xlink-data", svg('<image xlink:href="data:text/html,&lt;script&gt;"/>'), no_href()),
    ("image-http", svg('<image href="http://evil.example/track.png"/>'), no_href()),
    ("image-https-xlink", svg('<image xlink:href="https://evil.example/t.png"/>'), no_href()),
    ("feimage-http", svg('<filter id="f"><feImage href="http://evil/x.png"/></filter>'), no_href()),
    (
        "foreignobject-xhtml",
        svg(f'<foreignObject><div xmlns="{XHTML}"><script>alert(1)</script></div></foreignObject>'),
        lambda r: all(no_element(n)(r) for n in ("foreignObject", "script", "div")),
    ),
    (
        "foreignobject-iframe",
        svg(f'<foreignObject><iframe xmlns="{XHTML}" src="javascript:alert(1)"/></foreignObject>'),
        lambda r: no_element("foreignObject")(r) and no_element("iframe")(r),
    ),
    (
        "xhtml-outside-foreignobject",
        svg(f'<g><html:iframe xmlns:html="{XHTML}" src="http://evil/"/></g>'),
        lambda r: tags(r) <= {S + "svg", S + "g"},
    ),
    ("no-namespace-child", svg('<g xmlns=""><script>alert(1)</script></g>'), no_element("script")),
    ("svg-iframe", svg('<iframe src="http://evil/"/>'), no_element("iframe")),
    ("embed", svg('<embed src="http://evil/x.swf"/>'), no_element("embed")),
    ("object", svg('<object data="http://evil/x"/>'), no_element("object")),
    (
        "audio-video",
        svg('<audio src="a.mp3"/><video src="v.mp4"/>'),
        lambda r: tags(r) == {S + "svg"},
    ),
    (
        "handler",
        svg('<handler type="application/ecmascript">alert(1)</handler>'),
        no_element("handler"),
    ),
    ("listener", svg('<listener event="click" handler="#h"/>'), no_element("listener")),
    (
        "set-href",
        svg('<a href="#x"><set attributeName="href" to="javascript:alert(1)"/><text>x</text></a>'),
        no_element("set"),
    ),
    (
        "animate-href",
        svg('<a><animate attributeName="href" values="javascript:alert(1)"/>x</a>'),
        no_element("animate"),
    ),
    (
        "animate-onbegin",
        svg(
            '<rect><animateTransform attributeName="transform" type="rotate" onbegin="alert(1)"/>'
            "</rect>"
        ),
        lambda r: no_element("animateTransform")(r) and no_attr_named("onbegin")(r),
    ),
    (
        "animatemotion",
        svg('<rect><animateMotion path="M0,0 L10,10"/></rect>'),
        no_element("animateMotion"),
    ),
    (
        "style-attr-url-http",
        svg('<rect style="fill:red;background:url(http://evil/track.png)"/>'),
        no_value_containing("evil"),
    ),
    (
        "style-attr-url-quoted",
        svg("<rect style=\"background:url( 'https://evil/x' )\"/>"),
        no_value_containing("evil"),
    ),
    (
        "style-attr-css-escape",
        svg(r'<rect style="background:u\72l(http://evil/x)"/>'),
        no_value_containing("evil"),
    ),
    (
        "style-attr-expression",
        svg('<rect style="width:expression(alert(1))"/>'),
        no_attr_named("style"),
    ),
    (
        "style-attr-js",
        svg('<rect style="background:url(javascript:alert(1))"/>'),
        no_attr_named("style"),
    ),
    (
        "style-attr-image-set",
        svg("<rect style=\"background:image-set('http://evil/x' 1x)\"/>"),
        no_attr_named("style"),
    ),
    (
        "style-element-url",
        svg("<style>rect { fill: url(http://evil/x.svg#g) }</style><rect/>"),
        lambda r: no_element("style")(r) and no_value_containing("evil")(r),
    ),
    (
        "style-element-import",
        svg('<style>@import "http://evil/x.css";</style><rect/>'),
        lambda r: no_element("style")(r) and no_value_containing("@import")(r),
    ),
    (
        "style-element-import-cdata",
        svg("<style><![CDATA[@import url(//evil/x.css);]]></style>"),
        no_element("style"),
    ),
    (
        "style-element-comment-split",
        svg("<style>@im/**/port 'http://evil/x.css';</style>"),
        no_element("style"),
    ),
    ("fill-url-http", svg('<rect fill="url(http://evil/p.svg#g)"/>'), no_attr_named("fill")),
    ("filter-url-http", svg('<rect filter="url(https://evil/f.svg#f)"/>'), no_attr_named("filter")),
    ("clip-path-url", svg('<rect clip-path="url(//evil/c.svg#c)"/>'), no_attr_named("clip-path")),
    ("mask-url", svg("<rect mask=\"url('data:image/svg+xml,x')\"/>"), no_attr_named("mask")),
    (
        "marker-url",
        svg('<path d="M0 0" marker-end="url(http://evil/m.svg#m)"/>'),
        no_attr_named("marker-end"),
    ),
    ("use-http-href", svg('<use href="http://evil/x.svg#a"/>'), no_href()),
    ("use-http-xlink", svg('<use xlink:href="http://evil/x.svg#a"/>'), no_href()),
    ("use-data-href", svg('<use href="data:image/svg+xml;base64,PHN2Zz4=#a"/>'), no_href()),
    ("use-relative", svg('<use href="other.svg#a"/>'), no_href()),
    ("xml-base", svg('<g xml:base="http://evil/"><use href="#a"/></g>'), no_attr_named("base")),
]


@pytest.mark.parametrize(("name", "payload", "check"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_neutralised(name: str, payload: bytes, check: Callable[[ET.Element], bool]) -> None:
    ET.fromstring(payload)  # the corpus itself is well-formed, so sanitising is what's under test
    out = sanitize_svg(payload)
    root = parse(out)
    assert root.tag == S + "svg"
    assert check(root), out


REJECTS: list[tuple[str, bytes]] = [
    (
        "xxe-system",
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>',
    ),
    (
        "xxe-parameter",
        b'<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://evil/x.dtd"> %p;]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    ),
    (
        "billion-laughs",
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><svg xmlns="http://www.w3.org/2000/svg"><text>&lol9;</text></svg>',
    ),
    (
        "doctype-only",
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    ),
    ("html-root", f'<html xmlns="{XHTML}"><body><svg xmlns="{SVG}"/></body></html>'.encode()),
    ("svg-without-namespace", b'<svg width="10" height="10"><rect/></svg>'),
    ("wrong-namespace-svg", b'<svg xmlns="http://evil.example/svg"/>'),
    ("malformed", b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>'),
    ("not-xml", b"\x89PNG\r\n\x1a\n\x00\x00"),
    ("empty", b""),
    ("text", b"hello"),
    ("undeclared-prefix", b'<svg xmlns="http://www.w3.org/2000/svg"><x:rect/></svg>'),
    (
        "too-deep",
        svg("<g>" * (MAX_DEPTH + 5) + "</g>" * (MAX_DEPTH + 5)),
    ),
]


@pytest.mark.parametrize(("name", "payload"), REJECTS, ids=[r[0] for r in REJECTS])
def test_rejected(name: str, payload: bytes) -> None:
    with pytest.raises(UnsafeSVG):
        sanitize_svg(payload)


def test_unsafe_svg_is_value_error() -> None:
    assert issubclass(UnsafeSVG, ValueError)


def test_oversize_rejected() -> None:
    data = svg("<rect/>" * 100)
    with pytest.raises(UnsafeSVG, match="limit"):
        sanitize_svg(data, max_bytes=len(data) - 1)
    assert parse(sanitize_svg(data, max_bytes=len(data))).tag == S + "svg"


def test_default_limit_is_20_mib() -> None:
    data = svg("<!--" + "x" * (20 * 1024 * 1024) + "-->")
    with pytest.raises(UnsafeSVG):
        sanitize_svg(data)


def test_str_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        sanitize_svg(svg("").decode())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><?xml-stylesheet type="text/css" href="http://evil/x.css"?>'
        + svg('<rect width="1" height="1"/>'),
        svg('<?xml-stylesheet href="http://evil/x.css"?><rect/><?php echo 1; ?>'),
    ],
    ids=["before-root", "inside-root"],
)
def test_processing_instructions_removed(payload: bytes) -> None:
    out = sanitize_svg(payload)
    assert b"<?" not in out
    assert b"evil" not in out
    assert parse(out).find(S + "rect") is not None


def test_comments_removed() -> None:
    out = sanitize_svg(svg("<!-- <script>alert(1)</script> --><rect/>"))
    assert b"<!--" not in out and b"script" not in out


def test_same_document_use_kept() -> None:
    out = sanitize_svg(
        svg(
            '<defs><circle id="a" r="5"/></defs>'
            '<use href="#a" x="10"/><use xlink:href="#a" x="20"/>'
        )
    )
    uses = parse(out).findall(S + "use")
    assert [u.get("href") for u in uses] == ["#a", None]
    assert [u.get(XL_HREF) for u in uses] == [None, "#a"]
    assert b'xmlns:xlink="http://www.w3.org/1999/xlink"' in out


def test_fragment_links_and_urls_kept() -> None:
    out = sanitize_svg(
        svg(
            '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>'
            '<clipPath id="c"><rect width="5" height="5"/></clipPath></defs>'
            '<rect fill="url(#g)" clip-path="url( \'#c\' )" style="fill:url(#g);stroke:#000"/>'
            '<a href="#top"><text>up</text></a>'
        )
    )
    root = parse(out)
    rect = root.find(S + "rect")
    assert rect is not None
    assert rect.get("fill") == "url(#g)"
    assert rect.get("clip-path") == "url( '#c' )"
    assert rect.get("style") == "fill:url(#g);stroke:#000"
    assert root.find(S + "a").get("href") == "#top"  # type: ignore[union-attr]


def test_safe_style_element_kept() -> None:
    css = ".a { fill: #f00; stroke: url(#g) } /* comment */"
    out = sanitize_svg(svg(f"<style>{css}</style><rect class='a'/>"))
    style = parse(out).find(S + "style")
    assert style is not None and style.text == css


def test_clean_svg_round_trips() -> None:
    src = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        b'width="1024" height="768" viewBox="0 0 1024 768" preserveAspectRatio="xMidYMid meet">\n'
        b'  <title>A &amp; B \xe2\x98\x83</title>\n'
        b'  <g transform="translate(10 10)" fill="#123456">\n'
        b'    <path d="M0 0 L100 0 L100 100 Z" fill-rule="evenodd"/>\n'
        b'    <circle cx="50" cy="50" r="20" stroke="black" stroke-width="2"/>\n'
        b'    <text x="5" y="20" xml:space="preserve" font-family="Arial">'
        b"Hello, <tspan>world</tspan>!</text>\n"
        b"  </g>\n"
        b"</svg>\n"
    )
    out = sanitize_svg(src)
    assert out.startswith(b"<svg ")
    assert b'xmlns="http://www.w3.org/2000/svg"' in out
    assert b"ns0" not in out
    root = parse(out)
    orig = ET.fromstring(src)
    assert [(e.tag, e.attrib, e.text, e.tail) for e in root.iter()] == [
        (e.tag, e.attrib, e.text, e.tail) for e in orig.iter()
    ]
    assert root.get("width") == "1024" and root.get("height") == "768"
    assert root.get("viewBox") == "0 0 1024 768"
    assert "\u2603" in root.find(S + "title").text  # type: ignore[operator,union-attr]
    assert sanitize_svg(out) == out  # idempotent


def test_text_around_dropped_elements_is_kept() -> None:
    out = sanitize_svg(svg("<text>Hello <script>x</script>wor<set/>ld</text>"))
    text = parse(out).find(S + "text")
    assert text is not None and "".join(text.itertext()) == "Hello world"


def test_foreign_attributes_dropped_without_breaking_output() -> None:
    out = sanitize_svg(
        svg(
            '<rect xmlns:s="http://www.w3.org/2000/svg" '
            'xmlns:ink="http://www.inkscape.org/namespaces/inkscape" '
            's:fill="red" fill="blue" ink:label="layer"/>'
        )
    )
    rect = parse(out).find(S + "rect")
    assert rect is not None and rect.attrib == {"fill": "blue"}


def test_prefixed_svg_input_is_normalised() -> None:
    src = f'<s:svg xmlns:s="{SVG}" width="4"><s:rect/><s:script>x</s:script></s:svg>'
    out = sanitize_svg(src.encode())
    root = parse(out)
    assert tags(root) == {S + "svg", S + "rect"}
    assert out.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')


def test_utf16_input_becomes_utf8() -> None:
    src = '<?xml version="1.0" encoding="UTF-16"?>' + svg("<text>\u00e9</text>").decode()
    out = sanitize_svg(src.encode("utf-16"))
    assert "\u00e9".encode() in out
    assert parse(out).find(S + "text").text == "\u00e9"  # type: ignore[union-attr]


def test_large_svg_is_handled() -> None:
    body = '<path d="M0 0 L10 10 L20 0 Z" fill="#abcdef"/><script>x</script>' * 50_000
    data = svg(body)
    assert len(data) > 3 * 1024 * 1024
    root = parse(sanitize_svg(data))
    assert len(root.findall(S + "path")) == 50_000
    assert root.find(S + "script") is None


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        ('width="1024" height="768"', (1024, 768)),
        ('width="1024px" height="512px"', (1024, 512)),
        ('width=" 512.5 " height="100.4"', (513, 100)),
        ('width="1in" height="72pt"', (96, 96)),
        ('viewBox="0 0 2048 1024"', (2048, 1024)),
        ('viewBox="0,0,300.2,150"', (300, 150)),
        ('width="100%" height="100%" viewBox="0 0 640 480"', (640, 480)),
        ('width="200" viewBox="0 0 400 100"', (200, 50)),
        ('height="50" viewBox="0 0 400 100"', (200, 50)),
        ('width="640"', (640, None)),
        ("", (None, None)),
        ('width="100%" height="auto"', (None, None)),
        ('width="0" height="-5" viewBox="0 0 0 0"', (None, None)),
        ('viewBox="nonsense"', (None, None)),
    ],
)
def test_svg_dimensions(attrs: str, expected: tuple[int | None, int | None]) -> None:
    assert svg_dimensions(f'<svg xmlns="{SVG}" {attrs}/>'.encode()) == expected


def test_svg_dimensions_rejects_unsafe_input() -> None:
    with pytest.raises(UnsafeSVG):
        svg_dimensions(REJECTS[0][1])
    with pytest.raises(UnsafeSVG):
        svg_dimensions(b"<html/>")
