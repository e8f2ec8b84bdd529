"""The one bearer-key check of every network front-end (HTTP ``/v1``, MCP streamable HTTP).

The presented token's SHA-256 digest is compared with every configured key's digest, all of them,
with :func:`hmac.compare_digest`: the digests have one length, so timing reveals neither which key
matched nor how much of one. Failed attempts are counted per client address (the front-end
names it, through :class:`~imagegate._proxies.TrustedProxies` behind a proxy); after
``max_failures`` of them within ``window_s`` the address is answered ``rate_limited`` (with
``retry_after``) without the key being looked at, until its oldest failure leaves the window.
They are counted by the key store when it can (:class:`~imagegate._keys.AuthFailures`, e.g. in
Redis, so every replica sees them), else in this process (:class:`LocalAuthFailures`): at most
:data:`MAX_CLIENTS` addresses are remembered (the least recently failing forgotten first), each
with at most ``max_failures`` times, so the record stays bounded whoever knocks. A token
that is no configured key is looked up among the virtual keys (``imagegate keys create``) by its
digest (:class:`~imagegate._callers.KeyRing`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._callers import Caller
from ._errors import AuthenticationError, RateLimited

if TYPE_CHECKING:
    from ._callers import KeyRing
    from ._keys import AuthFailures
    from ._settings import GatewaySettings

__all__ = ["MAX_CLIENTS", "BearerCheck", "LocalAuthFailures"]

MAX_CLIENTS = 10_000


def _digest(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


def _token(authorization: str | bytes | None) -> bytes | None:
    """The token of ``Bearer <token>`` (any case of the scheme), or None."""
    if authorization is None:
        return None
    if isinstance(authorization, str):
        authorization = authorization.encode("utf-8", "surrogateescape")
    scheme, _, token = authorization.partition(b" ")
    token = token.strip()
    return token if scheme.lower() == b"bearer" and token else None


class LocalAuthFailures:
    """Failed attempts per client address in this process (follows :class:`~imagegate._keys.AuthFailures`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._times: OrderedDict[str, deque[float]] = OrderedDict()

    async def failure_wait(self, client: str, max_failures: int, window_s: float) -> float:
        times = self._times.get(client)
        if times is None:
            return 0.0
        now = self._clock()
        while times and times[0] <= now - window_s:
            times.popleft()
        if not times:
            del self._times[client]
            return 0.0
        return times[0] + window_s - now if len(times) >= max_failures else 0.0

    async def record_failure(self, client: str, max_failures: int, window_s: float) -> None:
        times = self._times.pop(client, None) or deque(maxlen=max_failures)
        times.append(self._clock())
        self._times[client] = times
        while len(self._times) > MAX_CLIENTS:
            self._times.popitem(last=False)


class BearerCheck:
    """Checks ``Authorization: Bearer <key>`` against the configured keys, throttling failures."""

    def __init__(self, keys: list[str], *, max_failures: int = 10, window_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._digests = [_digest(key.encode()) for key in keys if key]
        self.max_failures = max_failures
        self.window_s = window_s
        self._local = LocalAuthFailures(clock)

    @classmethod
    def from_settings(cls, gateway: GatewaySettings) -> BearerCheck:
        return cls(list(gateway.api_keys), max_failures=gateway.auth_max_failures,
                   window_s=gateway.auth_failure_window_s)

    @property
    def enabled(self) -> bool:
        """Whether ``GATEWAY__API_KEYS`` holds a key (virtual keys also turn the check on)."""
        return bool(self._digests)

    async def caller(self, authorization: str | bytes | None, client: str, keys: KeyRing | None = None) -> Caller:
        """Who sends this ``Authorization`` header: a key from ``GATEWAY__API_KEYS`` (the operator's,
        admin), a virtual key of ``keys``, or, when no key is configured anywhere, the local owner.

        Raises :class:`RateLimited` when ``client`` failed too often lately (the key is not
        checked), else :class:`AuthenticationError` for a missing or unknown key.
        """
        if not self.enabled and (keys is None or not await keys.any()):
            return Caller()
        failures: AuthFailures = (keys.failures if keys is not None else None) or self._local
        wait = await failures.failure_wait(client, self.max_failures, self.window_s)
        if wait:
            msg = (f"too many failed API key attempts from this address ({self.max_failures} in "
                   f"{self.window_s:g} s, GATEWAY__AUTH_MAX_FAILURES); retry in {wait:.0f} s")
            raise RateLimited(msg, retry_after=round(wait, 3), param="Authorization")
        token = _token(authorization)
        if token is not None:
            text = token.decode("utf-8", "surrogateescape")
            presented = _digest(token)
            if any([hmac.compare_digest(digest, presented) for digest in self._digests]):  # all compared
                return Caller.static(text)
            found = await keys.identify(text) if keys is not None else None
            if found is not None:
                return found
        await failures.record_failure(client, self.max_failures, self.window_s)
        msg = ("missing or unknown API key; send Authorization: Bearer <key> with a key from "
               "GATEWAY__API_KEYS or imagegate keys create")
        raise AuthenticationError(msg, param="Authorization")
