"""The gateway's one outbound HTTP session, and capped streaming downloads.

One ``aiohttp.ClientSession`` per gateway (connection reuse matters for big images), honouring
the standard proxy variables when any is set (``trust_env``). Timeouts suit image models, which
can take minutes: the connect timeout is short, reads have no fixed limit and are bounded by each
request's deadline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import UpstreamError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["download", "new_session", "read_body"]

_CHUNK = 1 << 16


def new_session(connect_timeout_s: float = 30.0) -> aiohttp.ClientSession:
    """The outbound session. Proxy variables are honoured when set; when none is, ``trust_env`` is
    off, because aiohttp would otherwise look for a proxy and a netrc entry in a thread on every
    request (two extra thread hops per image)."""
    import urllib.request

    import aiohttp

    from . import jsonfast

    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_connect=connect_timeout_s)
    connector = aiohttp.TCPConnector(limit=256, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        timeout=timeout, connector=connector, trust_env=bool(urllib.request.getproxies()),
        json_serialize=jsonfast.dumps_str,
    )


async def download(session: aiohttp.ClientSession, url: str, *, max_bytes: int, provider: str | None = None,
                   headers: dict[str, str] | None = None, follow_redirects: bool = True) -> bytearray:
    """Fetch ``url`` in chunks into one buffer, refusing more than ``max_bytes`` (and any redirect
    unless ``follow_redirects``)."""
    import aiohttp

    host = urlsplit(url).hostname or "?"
    try:
        async with session.get(url, headers=headers, allow_redirects=follow_redirects) as response:
            if 300 <= response.status < 400 and not follow_redirects:
                msg = f"{host} answered with a redirect (HTTP {response.status}); redirects are not followed"
                raise UpstreamError(msg, provider=provider, retryable=False)
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
