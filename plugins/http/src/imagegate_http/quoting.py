"""Quoting request text in error messages: never more than a short prefix of a name or value."""

from __future__ import annotations

__all__ = ["QUOTE_CHARS", "quote"]

QUOTE_CHARS = 100


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr`` of ``value`` (a string, or the ``str`` of anything else) cut to ``limit`` characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"
