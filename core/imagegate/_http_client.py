"""The gateway's one outbound HTTP session, and capped streaming downloads.

One ``aiohttp.ClientSession`` per gateway (connection reuse matters for big images), honouring
the standard proxy variables when any is set (``trust_env``). Timeouts suit image models, which
can take minutes: the connect timeout is short, reads have no fixed limit and are bounded by each
request's deadline. Every body it reads is bounded too (:mod:`imagegate.bounded_body`), whatever
reads it: no upstream answer, error or gzip bomb, grows past the provider's ``MAX_DOWNLOAD_MB``
during its attempt (the gateway runs each attempt in a ``body_limit``), or ``max_body_bytes``
outside one.

Output URLs an upstream hands back are fetched from public addresses only (the rule of
:mod:`imagegate.public_fetch`), checked at every redirect, unless they are on the provider's own
``BASE_URL`` host and port, which may be a private one (a self-hosted endpoint, a test fake). The
check is made when the URL is fetched, not by the connection's resolver (this session serves
private ``BASE_URL`` hosts too), so a host that answers DNS differently a moment later is not
caught; outputs come from the provider that was paid, not from a caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import UpstreamError

if TYPE_CHECKING:
    import aiohttp
    import yarl

__all__ = ["DEFAULT_MAX_BODY_BYTES", "download", "new_session", "read_body"]

_CHUNK = 1 << 16
_MAX_REDIRECTS = 10
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
"""The default of ``PROVIDERS__<NAME>__MAX_DOWNLOAD_MB`` (100), in bytes."""


def new_session(connect_timeout_s: float = 30.0, *,
                max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> aiohttp.ClientSession:
    """The outbound session; no body it reads grows past ``max_body_bytes`` (decompressed).

    Proxy variables are honoured when set; when none is, ``trust_env`` is off, because aiohttp would
    otherwise look for a proxy and a netrc entry in a thread on every request (two extra thread hops
    per image)."""
    import urllib.request

    import aiohttp

    from . import _jsonfast as jsonfast
    from ._bounded_body import bounded_response_class

    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_connect=connect_timeout_s)
    connector = aiohttp.TCPConnector(limit=256, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        timeout=timeout, connector=connector, trust_env=bool(urllib.request.getproxies()),
        json_serialize=jsonfast.dumps_str, response_class=bounded_response_class(max_body_bytes),
    )


async def download(session: aiohttp.ClientSession, url: str, *, max_bytes: int, provider: str | None = None,
                   headers: dict[str, str] | None = None, follow_redirects: bool = True,
                   private_ok: str | None = None) -> bytearray:
    """Fetch ``url`` in chunks into one buffer, refusing more than ``max_bytes`` (and any redirect
    unless ``follow_redirects``). Every URL fetched, redirects included, must resolve only to public
    addresses unless it is on the host and port of ``private_ok`` (the provider's ``BASE_URL``)."""
    import aiohttp
    from yarl import URL

    target = URL(url)
    host = target.host or "?"
    try:
        for _ in range(_MAX_REDIRECTS + 1):
            await _check_public(target, private_ok, provider)
            async with session.get(target, headers=headers, allow_redirects=False) as response:
                if not 300 <= response.status < 400:
                    return await _read_capped(response, host, max_bytes, provider)
                location = response.headers.get("Location")
                if not follow_redirects or location is None:
                    msg = f"{host} answered with a redirect (HTTP {response.status}); redirects are not followed"
                    raise UpstreamError(msg, provider=provider, retryable=False)
                target = response.url.join(URL(location))
    except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a Location that is no URL
        msg = f"downloading the output from {host} failed: {type(exc).__name__}"
        raise UpstreamError(msg, provider=provider) from None
    msg = f"downloading the output from {host} took more than {_MAX_REDIRECTS} redirects"
    raise UpstreamError(msg, provider=provider, retryable=False)


async def _check_public(url: yarl.URL, private_ok: str | None, provider: str | None) -> None:
    """Refuse ``url`` unless its host resolves only to public addresses or it is ``private_ok``'s
    host and port."""
    from yarl import URL

    from ._errors import InvalidRequest
    from ._public_fetch import is_public_host

    host = url.host or ""
    if private_ok is not None:
        own = URL(private_ok)
        if (host.lower(), url.port) == ((own.host or "").lower(), own.port):
            return
    try:
        public = await is_public_host(host, param="url")
    except InvalidRequest:  # the name does not resolve (now): a retry may help
        msg = f"cannot resolve the output URL's host {host}"
        raise UpstreamError(msg, provider=provider) from None
    if not public:
        msg = (f"the output URL's host {host} is not a public address; only the provider's own "
               "BASE_URL host may be private")
        raise UpstreamError(msg, provider=provider, retryable=False)


async def _read_capped(response: aiohttp.ClientResponse, host: str, max_bytes: int,
                       provider: str | None) -> bytearray:
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


async def read_body(response: aiohttp.ClientResponse) -> bytearray:
    """The whole body of ``response``, as ``response.read()`` gives it but in one growing buffer.

    ``read()`` keeps every chunk until the end and then joins them (twice the body's memory for a
    moment); appending to one buffer costs the same copy, and glibc grows a large one in place.
    """
    buffer = bytearray()
    async for chunk, _ in response.content.iter_chunks():
        buffer += chunk
    return buffer
