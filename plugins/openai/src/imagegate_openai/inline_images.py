"""Reading an ImagesResponse without running a JSON parser over its base64 images.

A 2 MB image arrives as 2.8 MB of base64 inside the JSON answer, and parsing that one string costs
more CPU than everything else the gateway does with the image. So every ``"b64_json": "..."``
value is found in the raw bytes and cut out (kept as a view of the body, not copied), the small
remainder is parsed with a unique placeholder where each value was, and each placeholder must then
sit exactly at ``data[i].b64_json``; anything else (a placeholder anywhere else, a remainder that
is not valid JSON) answers None, and the caller parses the whole body as before. A value is not
unescaped here: base64 needs no JSON escapes, so the strict decode finds any, and
:func:`~imagegate_openai.results.decode_b64` then undoes ``\\/`` (an escaped slash) and tries again.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["COLON_QUOTE", "KEY", "MARK", "MIN_CUT", "RawBase64", "cut_images", "put_back"]

KEY = b'"b64_json"'
COLON_QUOTE = re.compile(rb'\s*:\s*"')
MIN_CUT = 256
"""Shorter values are left to the JSON parser: cutting them saves nothing."""
MARK = f"\x00imagegate-b64-{secrets.token_hex(8)}-"


@dataclass(frozen=True, slots=True)
class RawBase64:
    """A ``b64_json`` value as the upstream sent it: bytes-like, not yet unescaped, decoded or checked."""

    data: bytes | bytearray | memoryview

    def __len__(self) -> int:
        return len(self.data)


def cut_images(body: bytes | bytearray) -> dict[str, Any] | None:
    """The answer as a dict whose ``data[i].b64_json`` values are :class:`RawBase64`; None if unsure."""
    view = memoryview(body)
    pieces: list[bytes | memoryview] = []
    cut: dict[str, RawBase64] = {}
    pos = 0
    search = 0
    while (key := body.find(KEY, search)) >= 0:
        after = COLON_QUOTE.match(body, key + len(KEY))
        if after is None:
            search = key + len(KEY)
            continue
        start = after.end()
        end = body.find(b'"', start)  # base64 has no quote; stopping at an escaped one fails decoding
        if end < 0:
            return None
        search = end + 1
        if end - start < MIN_CUT:
            continue
        mark = f"{MARK}{len(cut)}"
        cut[mark] = RawBase64(view[start:end])
        pieces += (view[pos:start], orjson.dumps(mark)[1:-1])
        pos = end
    if not cut:
        return None
    pieces.append(view[pos:])
    try:
        payload = orjson.loads(b"".join(pieces))
    except orjson.JSONDecodeError:
        return None
    return payload if put_back(payload, cut) else None


def put_back(payload: Any, cut: dict[str, Any]) -> bool:
    """Replace each placeholder at ``data[i].b64_json`` by its value; False unless all were there."""
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        return False
    placed = 0
    for item in items:
        value = item.get("b64_json") if isinstance(item, dict) else None
        if isinstance(value, str) and value in cut:
            item["b64_json"] = cut[value]
            placed += 1
    return placed == len(cut)
