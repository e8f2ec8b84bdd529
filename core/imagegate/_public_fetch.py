"""Fetching the URLs users name (input images): public addresses only, checked where it counts.

A host is checked once up front, for a clear error, and again by the resolver of the connection
that fetches: the address connected to is always one that was checked, so a host cannot answer the
check with a public address and the connection with a private one (DNS rebinding). Redirects are
refused, so an allowed host cannot bounce the fetch elsewhere, and proxies from the environment are
not used (a proxy would resolve the host itself, out of reach of the check).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING, Any

from ._errors import InvalidRequest

if TYPE_CHECKING:
    import aiohttp

__all__ = ["PublicOnlyResolver", "is_public_address", "is_public_host", "new_public_session"]


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (not private, loopback, link-local, ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


async def is_public_host(host: str, *, param: str = "image") -> bool:
    """True when every address ``host`` resolves to is public; a host that does not resolve is an
    ``InvalidRequest`` naming ``param``."""
    try:
        return is_public_address(host)  # an address needs no lookup
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        msg = f"{param}: cannot resolve {host}"
        raise InvalidRequest(msg, param=param) from None
    return bool(infos) and all(is_public_address(info[4][0]) for info in infos)


class PublicOnlyResolver:
    """aiohttp's resolver, refusing a host when any of its addresses is not public (it implements
    ``aiohttp.abc.AbstractResolver``; not a subclass, so importing this module imports no aiohttp)."""

    def __init__(self, inner: Any = None) -> None:
        from aiohttp.resolver import DefaultResolver

        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        found = await self._inner.resolve(host, port, family)
        if not found or not all(is_public_address(entry["host"]) for entry in found):
            msg = f"{host} resolves to a private, loopback or link-local address"
            raise OSError(msg)
        return found  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self._inner.close()


def new_public_session(connect_timeout_s: float = 30.0) -> aiohttp.ClientSession:
    """A session that connects only to public addresses and ignores proxy variables."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_connect=connect_timeout_s)
    connector = aiohttp.TCPConnector(limit=64, resolver=PublicOnlyResolver(), ttl_dns_cache=None,
                                     use_dns_cache=False)
    return aiohttp.ClientSession(timeout=timeout, connector=connector, trust_env=False)
