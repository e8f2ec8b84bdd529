"""What one gateway shares through Redis: a client opened at start-up (checked, so an unreachable
``REDIS__URL`` stops the start with a clear error), the provider limiters and the signing key."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from imagegate import Unavailable
from pydantic import SecretStr

from .client import DOWN, connect, guard, shown_url
from .limits import SharedLimiter
from .settings import RedisSettings

if TYPE_CHECKING:
    import redis.asyncio as redis
    from imagegate import Gateway

__all__ = ["SIGNING_KEY", "Shared"]

log = logging.getLogger("imagegate.redis")

SIGNING_KEY = "url-signing-key"
"""The key (under ``REDIS__PREFIX``) of the ``/files`` signing key every replica uses."""


class Shared:
    """One gateway's link to Redis."""

    def __init__(self, settings: RedisSettings) -> None:
        self.settings = settings
        self.client: redis.Redis = connect(settings)

    async def open(self, gateway: Gateway) -> None:
        """Check Redis answers, then adopt the shared signing key when none is configured."""
        try:
            await self.client.ping()
        except DOWN as exc:
            msg = (f"cannot reach Redis at REDIS__URL={shown_url(self.settings.url or '')} "
                   f"({type(exc).__name__}: {exc}); start it, fix REDIS__URL, or unset it to run without Redis")
            raise Unavailable(msg, retryable=True) from None
        if self.settings.shared_signing_key and gateway.settings.gateway.url_signing_key is None:
            gateway.settings.gateway.url_signing_key = SecretStr(await self.signing_key())
            log.info("signing /files URLs with the key kept in Redis (GATEWAY__URL_SIGNING_KEY is unset)")

    async def signing_key(self) -> str:
        """The signing key in Redis, made by the first replica to ask (SET NX: one key wins)."""
        name = self.settings.prefix + SIGNING_KEY
        async with guard(self.settings, "reading the shared URL-signing key"):
            await self.client.set(name, secrets.token_hex(32), nx=True)
            key = await self.client.get(name)
        return key.decode()  # type: ignore[no-any-return]

    def limiter(self, provider: str, max_concurrency: int, rpm: int | None) -> SharedLimiter | None:
        if not self.settings.shared_limits:
            return None
        return SharedLimiter(self.client, self.settings, provider, max_concurrency=max_concurrency, rpm=rpm)

    async def aclose(self) -> None:
        await self.client.aclose()
