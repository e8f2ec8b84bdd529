"""Text made safe for a terminal: no escape sequences, no control characters.

An upstream's error text, a revised prompt or a stored image's metadata can carry bytes a terminal
obeys: OSC 52 writes the clipboard, OSC 0 retitles the window, CSI moves the cursor or recolours,
C1 controls do the same in one byte. Everything the CLI prints goes through :func:`printable`
(JSON answers included, so a script that prints a field is safe too); newlines and tabs stay.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["printable", "printable_value"]

_SEQUENCES = re.compile(
    r"(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c|$)"            # OSC ... BEL or ST (payload dropped with it)
    r"|(?:\x1b[P^_X]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\|\x9c|$)"  # DCS, PM, APC, SOS ... ST
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"                  # CSI parameters final-byte
    r"|\x1b[ -/]*[0-~]?",                                  # any other escape
    re.DOTALL,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but \t \n, DEL, C1


def printable(text: str) -> str:
    """``text`` without escape sequences and control characters (``\\r\\n`` becomes ``\\n``)."""
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def printable_value(value: Any) -> Any:
    """A JSON-like value with every string (keys included) made :func:`printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_value(key): printable_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable_value(item) for item in value]
    return value
