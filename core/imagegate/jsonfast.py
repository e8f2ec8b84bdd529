"""Fast JSON (orjson) in the shapes aiohttp and the front-ends want."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps", "dumps_str", "loads"]

loads = orjson.loads


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def dumps_str(value: Any) -> str:
    """For aiohttp's ``json_serialize``, which wants ``str``."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
