"""Job webhooks: when a job that named a ``webhook_url`` ends, its job object is POSTed there,
signed the Standard Webhooks way.

Headers: ``webhook-id`` (``msg_<job id>``: the same for every attempt, so a receiver can drop
repeats), ``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature``
(``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under the key of
``GATEWAY__WEBHOOK_SECRET``, ``whsec_<base64>``). A failed attempt (network error, timeout or a
non-2xx answer) is retried with exponential back-off, :data:`MAX_ATTEMPTS` attempts in all, in a
task of its own: a delivery never holds up the job's end, and the gateway awaits deliveries in
flight when it closes.

A target is checked before any money is spent (:meth:`Webhooks.check`): ``https`` on a public
address, unless its host is in ``GATEWAY__WEBHOOK_ALLOW_HOSTS`` (then ``http`` and private
addresses too). Deliveries connect only to checked addresses, as input-image fetches do
(:mod:`~imagegate._public_fetch`): no redirects, no proxy, and the resolver of the connection
refuses a host that resolves to a private address by then.

The body is rendered by the front-end the job came from (``delivery["frontend"]``; the HTTP
front-end registers one answering exactly what ``GET /v1/images/jobs/{id}`` answers); without
one it is the job's public record as JSON.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from ._errors import InvalidRequest
from ._public_fetch import PublicOnlyResolver, is_public_host
from ._settings import WebhookSettings, webhook_key

if TYPE_CHECKING:
    import aiohttp

    from ._gateway import Gateway

__all__ = ["MAX_ATTEMPTS", "Renderer", "Webhooks", "sign"]

log = logging.getLogger("imagegate.webhooks")

MAX_ATTEMPTS = 5
FIRST_DELAY_S = 1.0
ATTEMPT_TIMEOUT_S = 10.0
_MAX_URL = 2048

Renderer = Callable[[dict[str, Any]], Awaitable[bytes]]
"""Renders an ended job's record as the webhook body."""


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class _AllowListResolver:
    """Resolves allowed hosts as usual and every other host to public addresses only."""

    def __init__(self, allowed: set[str]) -> None:
        from aiohttp.resolver import DefaultResolver

        self._allowed = allowed
        self._any = DefaultResolver()
        self._public = PublicOnlyResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        inner = self._any if host.lower() in self._allowed else self._public
        return await inner.resolve(host, port, family)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self._any.close()
        await self._public.close()


class Webhooks:
    """Checks webhook targets and delivers ended jobs to them."""

    def __init__(self, gateway: Gateway, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.gateway = gateway
        self.settings = gateway.settings.section("gateway", WebhookSettings)
        self.allowed = {host.lower() for host in self.settings.webhook_allow_hosts}
        self.renderers: dict[str, Renderer] = {}
        self.max_attempts = MAX_ATTEMPTS
        self.first_delay_s = FIRST_DELAY_S
        self._sleep = sleep
        self._deliveries: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def add_renderer(self, frontend: str, render: Renderer) -> None:
        """Render the webhook body of jobs that came from ``frontend``."""
        self.renderers[frontend] = render

    async def check(self, url: str) -> None:
        """Refuse (``invalid_request`` naming ``webhook_url``) a target deliveries may not go to,
        or any target when no secret is configured."""
        if self.settings.webhook_secret is None:
            msg = ("webhook_url needs GATEWAY__WEBHOOK_SECRET (whsec_<base64 key>) to sign deliveries; "
                   "set it, or send the request without webhook_url")
            raise InvalidRequest(msg, param="webhook_url")
        parts = urlsplit(url) if len(url) <= _MAX_URL else None
        host = (parts.hostname or "") if parts else ""
        allowed = host.lower() in self.allowed
        schemes = ("https", "http") if allowed else ("https",)
        if parts is None or parts.scheme not in schemes or not host:
            where = " (http only for hosts in GATEWAY__WEBHOOK_ALLOW_HOSTS)" if not allowed else ""
            msg = f"webhook_url must be an {' or '.join(schemes)} URL of at most {_MAX_URL} characters{where}"
            raise InvalidRequest(msg, param="webhook_url")
        if not allowed and not await is_public_host(host, param="webhook_url"):
            msg = (f"webhook_url: {host[:80]} is a private, loopback or link-local address; "
                   "GATEWAY__WEBHOOK_ALLOW_HOSTS allows a host anyway")
            raise InvalidRequest(msg, param="webhook_url")

    def job_ended(self, record: dict[str, Any]) -> None:
        """Deliver an ended job's webhook in the background (a :meth:`JobRuns.on_end` listener)."""
        if not record.get("webhook_url") or self.settings.webhook_secret is None:
            return
        task = asyncio.ensure_future(self._deliver(record))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _body(self, record: dict[str, Any]) -> bytes:
        render = self.renderers.get(str((record.get("delivery") or {}).get("frontend")))
        if render is not None:
            return await render(record)
        return orjson.dumps(self.gateway.jobs.public(record))

    async def _deliver(self, record: dict[str, Any]) -> None:
        import aiohttp

        assert self.settings.webhook_secret is not None
        key = webhook_key(self.settings.webhook_secret)
        url, message_id = record["webhook_url"], f"msg_{record['id']}"
        target = urlsplit(url).hostname
        try:
            body = await self._body(record)
        except Exception:
            log.exception("webhook for job %s: its body could not be rendered", record["id"])
            return
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                await self._sleep(self.first_delay_s * 2 ** (attempt - 2))
            timestamp = int(time.time())
            headers = {"content-type": "application/json", "webhook-id": message_id,
                       "webhook-timestamp": str(timestamp), "webhook-signature": sign(key, message_id, timestamp, body)}
            try:
                async with self.session.post(url, data=body, headers=headers, allow_redirects=False) as answer:
                    if 200 <= answer.status < 300:
                        log.info("webhook for job %s delivered to %s (attempt %d)", record["id"], target, attempt)
                        return
                    reason = f"HTTP {answer.status}"
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                reason = type(exc).__name__
            log.warning("webhook for job %s to %s failed (%s), attempt %d of %d", record["id"], target, reason,
                        attempt, self.max_attempts)
        log.error("webhook for job %s to %s given up after %d attempts", record["id"], target, self.max_attempts)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The delivery session: checked addresses only, no redirects, no proxy."""
        import aiohttp

        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT_S)
            connector = aiohttp.TCPConnector(limit=32, resolver=_AllowListResolver(self.allowed),
                                             use_dns_cache=False)
            self._session = aiohttp.ClientSession(timeout=timeout, connector=connector, trust_env=False)
        return self._session

    async def aclose(self) -> None:
        """Await the deliveries in flight, then close the session."""
        while self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
