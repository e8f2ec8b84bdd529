"""One Redis client per use, its failures turned into the core's ``unavailable`` error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as redis
from imagegate import InternalError, Unavailable
from redis import exceptions
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from .settings import RedisSettings

__all__ = ["DOWN", "connect", "guard", "shown_url"]

DOWN = (exceptions.ConnectionError, exceptions.TimeoutError, exceptions.ReadOnlyError,
        exceptions.OutOfMemoryError, exceptions.MasterDownError, exceptions.TryAgainError, OSError)
"""Errors that mean Redis is unreachable or cannot take writes now (retrying later helps)."""


def shown_url(url: str) -> str:
    """``url`` without its password, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(settings: RedisSettings) -> redis.Redis:
    """A client for ``REDIS__URL`` whose every call ends within about two socket timeouts (one
    reconnect attempt), so a lost Redis fails requests instead of hanging them."""
    assert settings.url is not None
    return redis.Redis.from_url(
        settings.url, socket_timeout=settings.socket_timeout_s, socket_connect_timeout=settings.socket_timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1), health_check_interval=30)


@asynccontextmanager
async def guard(settings: RedisSettings, doing: str) -> AsyncIterator[None]:
    """Turn Redis failures met while ``doing`` into :class:`~imagegate.Unavailable` (retryable)."""
    try:
        yield
    except DOWN as exc:
        msg = (f"Redis at REDIS__URL={shown_url(settings.url or '')} is unavailable while {doing} "
               f"({type(exc).__name__}: {exc}); retry later")
        raise Unavailable(msg, retryable=True) from None
    except exceptions.RedisError as exc:
        msg = f"Redis at REDIS__URL={shown_url(settings.url or '')} refused {doing}: {type(exc).__name__}: {exc}"
        raise InternalError(msg) from None
