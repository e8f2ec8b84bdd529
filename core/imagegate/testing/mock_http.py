"""aioresponses made to work with the installed aiohttp, for provider unit tests.

aioresponses 0.7.9 builds ``ClientResponse`` objects without the ``stream_writer`` argument that
aiohttp 3.14 requires; this module supplies one so every plugin uses the same mock. Import it only
in tests (it needs the ``aioresponses`` test dependency).

A mocked world has no DNS: while the mock is active, a host name counts as public for the check of
output URLs (``imagegate._http_client.download``); an IP address is still judged as it is.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from unittest import mock

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

    def start(self) -> None:
        self._no_dns = mock.patch("imagegate._public_fetch.is_public_host", _names_are_public)
        self._no_dns.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        self._no_dns.stop()


async def _names_are_public(host: str, *, param: str = "image") -> bool:
    from imagegate._public_fetch import is_public_address

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return is_public_address(host)
