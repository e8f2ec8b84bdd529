"""Upstream answers read with a ceiling: no body, however it is read, grows past a limit.

The outbound session's responses hand out their body through :class:`BoundedContent`, which counts
the bytes it passes on (after decompression: a gzip bomb is counted as what it inflates to) and
raises a non-retryable :class:`~imagegate._errors.UpstreamError` past the limit. Every way of reading
is covered: ``read()``, ``text()``, ``json()``, and ``response.content`` iterated by line, by chunk
or as it arrives. Reading everything is done chunk by chunk, so aiohttp never inflates more than
one chunk ahead of the count. The limit is the session's, or within :func:`body_limit` (the gateway
wraps each provider attempt in one) that block's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ._errors import UpstreamError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["BoundedContent", "body_limit", "bounded_response_class"]

_LIMIT: ContextVar[int | None] = ContextVar("imagegate_body_limit", default=None)


@contextmanager
def body_limit(max_bytes: int) -> Iterator[None]:
    """Within this block (one provider's attempt), bodies stop at ``max_bytes`` instead of the
    session's own limit: each provider's ``MAX_DOWNLOAD_MB`` applies to its own answers."""
    token = _LIMIT.set(max_bytes)
    try:
        yield
    finally:
        _LIMIT.reset(token)


class BoundedContent:
    """``response.content`` (an ``aiohttp.StreamReader``) that hands out at most ``limit`` bytes."""

    def __init__(self, inner: aiohttp.StreamReader, limit: int, host: str) -> None:
        self._inner = inner
        self._limit = limit
        self._host = host
        self._given = 0

    def _count(self, data: bytes) -> bytes:
        self._given += len(data)
        if self._given > self._limit:
            raise self._too_big()
        return data

    def _too_big(self) -> UpstreamError:
        msg = f"the answer from {self._host} is over the {self._limit} byte limit (the provider's MAX_DOWNLOAD_MB)"
        return UpstreamError(msg, retryable=False)

    async def read(self, n: int = -1) -> bytes:
        if n >= 0:  # never asks aiohttp for (so never inflates) more than the limit leaves
            return self._count(await self._inner.read(min(n, self._limit - self._given + 1)))
        chunks = []
        while chunk := await self.readany():
            chunks.append(chunk)
        return b"".join(chunks)

    async def readany(self) -> bytes:
        return self._count(await self._inner.readany())

    async def readchunk(self) -> tuple[bytes, bool]:
        data, end_of_chunk = await self._inner.readchunk()
        return self._count(data), end_of_chunk

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        return await self.readuntil(max_size=max_line_length)

    async def readuntil(self, separator: bytes = b"\n", *, max_size: int | None = None) -> bytes:
        """A line is capped by aiohttp too (twice the read buffer, 512 KiB by default)."""
        from aiohttp.http_exceptions import LineTooLong

        try:
            return self._count(await self._inner.readuntil(separator, max_size=max_size))
        except LineTooLong:
            msg = f"the answer from {self._host} has a line longer than aiohttp reads (about 512 KiB)"
            raise UpstreamError(msg, retryable=False) from None

    async def readexactly(self, n: int) -> bytes:
        if self._given + n > self._limit:  # refused before waiting for bytes that would be too many
            raise self._too_big()
        return self._count(await self._inner.readexactly(n))

    def read_nowait(self, n: int = -1) -> bytes:
        return self._count(self._inner.read_nowait(n))

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _until_empty(self.readline)

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        return _until_empty(lambda: self.read(n))

    def iter_any(self) -> AsyncIterator[bytes]:
        return _until_empty(self.readany)

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        while True:
            data, end_of_chunk = await self.readchunk()
            if not data and not end_of_chunk:
                return
            yield data, end_of_chunk

    def __getattr__(self, name: str) -> Any:  # at_eof, exception, set_exception, on_eof, ...
        return getattr(self._inner, name)


async def _until_empty(read: Callable[[], Awaitable[bytes]]) -> AsyncIterator[bytes]:
    while chunk := await read():
        yield chunk


@lru_cache(maxsize=8)
def bounded_response_class(limit: int) -> type[aiohttp.ClientResponse]:
    """An ``aiohttp.ClientResponse`` whose body (``content``) is a :class:`BoundedContent` of
    ``limit`` bytes (or of :func:`body_limit`'s when the request is made inside one); pass it to
    ``ClientSession(response_class=...)``."""
    import aiohttp

    class BoundedResponse(aiohttp.ClientResponse):
        async def start(self, connection: aiohttp.connector.Connection) -> aiohttp.ClientResponse:
            await super().start(connection)
            bound = _LIMIT.get() or limit
            self.content = BoundedContent(self.content, bound, self.url.host or "?")  # type: ignore[assignment]
            return self

    return BoundedResponse
