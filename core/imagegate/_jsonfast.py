"""Fast JSON (orjson) in the shapes aiohttp and the front-ends want."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps_str"]


def dumps_str(value: Any) -> str:
    """For aiohttp's ``json_serialize``, which wants ``str``."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
