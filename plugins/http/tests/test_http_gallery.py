"""``/gallery`` without a browser: the page and its assets are served with a strict
Content-Security-Policy and ``nosniff``, need no key, and hold nothing the policy would have to
allow (no inline script or style, no event-handler attributes, nothing from another origin)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.resources import files

import aiohttp
import pytest

ASSETS = {"/gallery": "text/html", "/gallery/gallery.js": "text/javascript", "/gallery/gallery.css": "text/css"}
ASSET_FILES = {"/gallery": "index.html", "/gallery/gallery.js": "gallery.js", "/gallery/gallery.css": "gallery.css"}


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("keys", [[], ["k-gallery"]])
async def test_page_and_assets_carry_the_policy_and_need_no_key(serve, keys: list[str]) -> None:
    served = await serve(options={"api_keys": keys})
    async with aiohttp.ClientSession(served.base_url) as http:
        for path, content_type in ASSETS.items():
            async with http.get(path) as response:
                assert response.status == 200, path
                assert response.content_type == content_type
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                policy = _directives(response.headers["Content-Security-Policy"])
                assert policy["default-src"] == ["'self'"]
                assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
                assert policy["img-src"] == ["'self'", "blob:", "data:"]
                assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
                assert not any("unsafe" in value for values in policy.values() for value in values)
                assert len(await response.read()) > 100


@pytest.mark.parametrize("path", ["/gallery/index.html", "/gallery/app.py", "/gallery/..%2fapp.py",
                                  "/gallery/%2e%2e%2f__init__.py"])
async def test_only_the_named_assets_are_served(served, path: str) -> None:
    async with aiohttp.ClientSession(served.base_url) as http, http.get(path) as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.scripts: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "style" or "style" in names or any(name.startswith("on") for name in names):
            self.inline.append(f"<{tag} {attrs}>")
        if tag == "script":
            self.in_script = True
            self.scripts.append(names.get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = self.in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.inline.append(f"inline script: {data[:40]!r}")


def _asset(name: str) -> str:
    return files("imagegate_http").joinpath("gallery", name).read_text(encoding="utf-8")


def test_the_markup_holds_no_inline_script_or_style() -> None:
    markup = _Markup()
    markup.feed(_asset("index.html"))
    assert markup.inline == []
    assert markup.scripts == ["gallery/gallery.js"]


@pytest.mark.parametrize("name", ["index.html", "gallery.js", "gallery.css"])
def test_nothing_is_loaded_from_elsewhere(name: str) -> None:
    text = _asset(name)
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE)
    assert "@import" not in text


def test_the_script_never_turns_server_text_into_markup() -> None:
    script = _asset("gallery.js")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script


def test_imagegate_serve_http_serves_the_gallery(cli_server) -> None:
    """The installed command serves the page and its assets from the package data."""
    import urllib.request

    server = cli_server()
    for path, content_type in ASSETS.items():
        with urllib.request.urlopen(server.base_url + path, timeout=10) as response:
            assert response.status == 200
            assert response.headers.get_content_type() == content_type
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert response.read() == _asset(ASSET_FILES[path]).encode()
