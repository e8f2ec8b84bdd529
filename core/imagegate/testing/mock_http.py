"""aioresponses made to work with the installed aiohttp, for provider unit tests.

aioresponses 0.7.9 builds ``ClientResponse`` objects without the ``stream_writer`` argument that
aiohttp 3.14 requires; this module supplies one so every plugin uses the same mock. Import it only
in tests (it needs the ``aioresponses`` test dependency).
"""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse
from aioresponses import aioresponses

__all__ = ["mock_upstream"]


class _SentWriter:
    output_size = 0


class _CompatResponse(ClientResponse):
    def __init__(self, method: Any, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _SentWriter())
        super().__init__(method, url, **kwargs)


class mock_upstream(aioresponses):  # noqa: N801 - used like aioresponses
    """``aioresponses`` whose responses work with the installed aiohttp."""

    def add(self, url: Any, method: str = "GET", *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", _CompatResponse)
        super().add(url, method, *args, **kwargs)
