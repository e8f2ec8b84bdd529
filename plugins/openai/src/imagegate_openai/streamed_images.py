"""Decoding an ImagesResponse's base64 images while the answer arrives.

When the gateway answers with URLs it never needs the upstream's base64 text, so holding the 2.8 MB
body until it has been read (and then the decoded 2.1 MB image beside it) is wasted memory. Chunk
by chunk, :class:`ImagesReader` finds each ``"b64_json": "`` value (as
:mod:`~imagegate_openai.inline_images` does, across chunk boundaries), decodes its base64 strictly
in 4-character groups as it comes, and keeps only the small rest of the JSON, with a placeholder
where each value was. A value that is not plain base64 (an escaped ``\\/``, a character outside the
alphabet, padding before its end, a length that is not a multiple of 4) is kept as raw text from
then on and handled by :func:`~imagegate_openai.results.decode_b64` exactly as before. If the rest
is not valid JSON or a placeholder is not at ``data[i].b64_json``, :meth:`ImagesReader.body`
rebuilds the exact body the upstream sent, for the usual full parse.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from typing import Any

import orjson
import pybase64

from .inline_images import COLON_QUOTE, KEY, MARK, MIN_CUT, RawBase64, put_back

__all__ = ["DecodedBase64", "ImagesReader"]

_PAD = ord("=")
_PARTIAL = re.compile(rb"\s*(?::\s*)?")
"""What may follow the key while its colon and opening quote have not all arrived."""


@dataclass(frozen=True, slots=True)
class DecodedBase64:
    """A ``b64_json`` value already strictly decoded; the upstream's text was not kept."""

    data: bytes


class _Value:
    """One ``b64_json`` value being read: decoded pieces, or its raw text once it is not plain base64."""

    __slots__ = ("padded", "pending", "pieces", "raw", "size")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.pending = b""  # 0-3 characters waiting for the rest of their group
        self.padded: bytes | None = None  # the last group as sent, once one had "=" padding
        self.raw: bytearray | None = None
        self.size = 0

    def feed(self, chunk: bytes | bytearray, start: int, end: int) -> None:
        """Take in ``chunk[start:end]``, a part of the value."""
        if start == end:
            return
        self.size += end - start
        text = memoryview(chunk)[start:end]
        if self.raw is None:
            escaped = chunk.find(b"\\", start, end) >= 0
            text = self._to_raw(text) if escaped else self._take(text)
        if self.raw is not None:
            self.raw += text

    def _take(self, text: memoryview) -> memoryview:
        """Decode what forms whole groups; switch to raw and answer what is left to keep if it fails."""
        if self.padded is not None:
            return self._to_raw(text)
        if self.pending:
            need = 4 - len(self.pending)
            if len(text) < need:
                self.pending += bytes(text)
                return text[:0]
            if not self._decoded(self.pending + bytes(text[:need])):
                return self._to_raw(text)
            self.pending = b""
            text = text[need:]
            if self.padded is not None and text:
                return self._to_raw(text)
        cut = len(text) - len(text) % 4
        if cut and not self._decoded(text[:cut]):
            return self._to_raw(text)
        rest = text[cut:]
        if self.padded is not None and rest:
            return self._to_raw(rest)
        self.pending = bytes(rest)
        return rest[:0]

    def _decoded(self, groups: bytes | memoryview) -> bool:
        try:
            self.pieces.append(pybase64.b64decode(groups, validate=True))
        except (binascii.Error, ValueError):
            return False
        if groups[-1] == _PAD:
            self.padded = bytes(groups[-4:])
        return True

    def _to_raw(self, text: memoryview) -> memoryview:
        """Keep the value as sent from now on; answers ``text``, the part not yet taken in."""
        self.raw = bytearray(self.text())
        self.pieces, self.pending, self.padded = [], b"", None
        return text

    def text(self) -> bytes:
        """The value as sent (rebuilt from what was decoded: only on the rare fallbacks)."""
        if self.raw is not None:
            return bytes(self.raw)
        encoded = pybase64.b64encode(b"".join(self.pieces))
        if self.padded is not None:
            encoded = encoded[:-4] + self.padded
        return encoded + self.pending

    def result(self) -> DecodedBase64 | RawBase64:
        """Decoded when it was plain base64 to the end; else its text, for ``decode_b64`` as before."""
        if self.raw is not None or self.pending:
            return RawBase64(self.text())
        return DecodedBase64(b"".join(self.pieces))


class ImagesReader:
    """Feed it an ImagesResponse chunk by chunk; then :meth:`payload`, or :meth:`body` when that is None."""

    def __init__(self) -> None:
        self._parts: list[bytes | bytearray | _Value] = []
        self._text = bytearray()  # the JSON since the last value, not yet searched to its end
        self._search = 0
        self._value: _Value | None = None

    def feed(self, chunk: bytes | bytearray) -> None:
        pos = 0
        while pos < len(chunk):
            if self._value is None:
                self._text += memoryview(chunk)[pos:]
                start = self._find_value()
                if start is None:
                    return
                chunk, pos = bytes(self._text[start:]), 0  # the start of the value: at most one chunk
                del self._text[start:]
                self._parts.append(self._text)
                self._text, self._search, self._value = bytearray(), 0, _Value()
                continue
            end = chunk.find(b'"', pos)  # base64 has no quote; one escaped inside ends it, as before
            if end < 0:
                self._value.feed(chunk, pos, len(chunk))
                return
            self._value.feed(chunk, pos, end)
            self._close(self._value)
            pos = end

    def _find_value(self) -> int | None:
        """Where the next ``b64_json`` value starts in the text; None until one is complete."""
        text = self._text
        while (key := text.find(KEY, self._search)) >= 0:
            after = COLON_QUOTE.match(text, key + len(KEY))
            if after is not None:
                return after.end()
            if _PARTIAL.fullmatch(text, key + len(KEY)):
                self._search = key  # the colon or the quote may come in the next chunk
                return None
            self._search = key + len(KEY)
        self._search = max(self._search, len(text) - len(KEY) + 1)
        return None

    def _close(self, value: _Value) -> None:
        """The value ended; short ones go back to the JSON text for the parser, as inline_images does."""
        self._parts.append(value if value.size >= MIN_CUT else value.text())
        self._value, self._search = None, 1  # the text goes on from the closing quote

    def payload(self) -> dict[str, Any] | None:
        """The answer with ``data[i].b64_json`` as :class:`DecodedBase64` (or :class:`RawBase64` when
        not plain base64); None when unsure (call :meth:`body`)."""
        if self._value is not None:
            return None
        values = [part for part in self._parts if isinstance(part, _Value)]
        if not values:
            return None
        marks = [f"{MARK}{index}" for index in range(len(values))]
        pieces: list[bytes | bytearray] = []
        index = 0
        for part in self._parts:
            if isinstance(part, _Value):
                pieces.append(orjson.dumps(marks[index])[1:-1])
                index += 1
            else:
                pieces.append(part)
        pieces.append(self._text)
        try:
            payload = orjson.loads(b"".join(pieces))
        except orjson.JSONDecodeError:
            return None
        cut = {mark: value.result() for mark, value in zip(marks, values, strict=True)}
        return payload if put_back(payload, cut) else None

    def body(self) -> bytes:
        """The body exactly as the upstream sent it (the decoded values encoded again)."""
        parts = [part.text() if isinstance(part, _Value) else part for part in self._parts]
        if self._value is not None:
            parts.append(self._value.text())
        parts.append(self._text)
        return b"".join(parts)
