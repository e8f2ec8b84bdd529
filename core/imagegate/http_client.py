"""The gateway's one outbound HTTP session, and capped streaming downloads.

One ``aiohttp.ClientSession`` per gateway (connection reuse matters for big images), honouring
the standard proxy variables (``trust_env``). Timeouts suit image models, which can take minutes:
the connect timeout is short, reads have no fixed limit and are bounded by each request's deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import InvalidRequest, UpstreamError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["download", "is_public_host", "new_session", "read_body"]

_CHUNK = 1 << 16


def new_session(connect_timeout_s: float = 30.0) -> aiohttp.ClientSession:
    import aiohttp

    from . import jsonfast

    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_connect=connect_timeout_s)
    connector = aiohttp.TCPConnector(limit=256, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        timeout=timeout, connector=connector, trust_env=True, json_serialize=jsonfast.dumps_str
    )


async def download(session: aiohttp.ClientSession, url: str, *, max_bytes: int, provider: str | None = None,
                   headers: dict[str, str] | None = None) -> bytearray:
    """Fetch ``url`` in chunks into one buffer, refusing more than ``max_bytes``."""
    import aiohttp

    host = urlsplit(url).hostname or "?"
    try:
        async with session.get(url, headers=headers) as response:
            if response.status >= 400:
                msg = f"downloading the output from {host} failed with HTTP {response.status}"
                raise UpstreamError(msg, provider=provider, retryable=response.status >= 500)
            length = response.content_length
            if length is not None and length > max_bytes:
                msg = f"the output from {host} is {length} bytes, over the {max_bytes} byte limit"
                raise UpstreamError(msg, provider=provider, retryable=False)
            buffer = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                buffer += chunk
                if len(buffer) > max_bytes:
                    msg = f"the output from {host} is over the {max_bytes} byte limit"
                    raise UpstreamError(msg, provider=provider, retryable=False)
            return buffer
    except aiohttp.ClientError as exc:
        msg = f"downloading the output from {host} failed: {type(exc).__name__}"
        raise UpstreamError(msg, provider=provider) from None


async def read_body(response: aiohttp.ClientResponse) -> bytearray:
    """The whole body of ``response``, as ``response.read()`` gives it but in one growing buffer.

    ``read()`` keeps every chunk until the end and then joins them (twice the body's memory for a
    moment); appending to one buffer costs the same copy, and glibc grows a large one in place.
    """
    buffer = bytearray()
    async for chunk, _ in response.content.iter_chunks():
        buffer += chunk
    return buffer


async def is_public_host(host: str) -> bool:
    """True when every address ``host`` resolves to is public (no private, loopback, link-local)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        msg = f"cannot resolve {host}"
        raise InvalidRequest(msg, param="image") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return False
    return bool(infos)
