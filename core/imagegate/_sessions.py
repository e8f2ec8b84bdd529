"""The gateway's two outbound HTTP sessions, each made on first use (and again after a close):
one for provider APIs, and one for URLs users name (public addresses only, no redirects, no proxy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._http_client import new_session
from ._public_fetch import new_public_session

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Sessions"]


class Sessions:
    """``upstream`` for provider calls and paid downloads; ``public`` for input-image URLs."""

    def __init__(self) -> None:
        self._upstream: aiohttp.ClientSession | None = None
        self._public: aiohttp.ClientSession | None = None

    @property
    def upstream(self) -> aiohttp.ClientSession:
        if self._upstream is None or self._upstream.closed:
            self._upstream = new_session()
        return self._upstream

    @property
    def public(self) -> aiohttp.ClientSession:
        if self._public is None or self._public.closed:
            self._public = new_public_session()
        return self._public

    async def aclose(self) -> None:
        for session in (self._upstream, self._public):
            if session is not None:
                await session.close()
