"""Calling the provider: deadline, concurrency and RPM slot, attempts with retries, paid downloads.

One call per request, or one per image for models whose API has no count field. Each attempt runs
inside the middlewares as a ``provider_attempt`` step; a retryable failure is tried again by
:func:`~imagegate._retry.retrying`. Outputs the provider downloads after the upstream was paid are
retried on their own, because retrying the whole call would pay again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._bounded_body import body_limit
from ._errors import ImagegateError, InternalError, Timeout, UpstreamError
from ._events import Event, RetryScheduled
from ._http_client import download
from ._limits import ProviderLimiter
from ._middleware import RunStep, Step
from ._provider import ProviderCall, ProviderResult
from ._retry import retrying

if TYPE_CHECKING:
    import aiohttp

    from ._jobs import Job
    from ._limits import Limiter

MakeLimiter = Callable[[str, int, "int | None"], "Limiter | None"]
"""``(provider, max_concurrency, rpm)`` -> a plugin's limiter, or None for the in-process one."""

__all__ = ["DOWNLOAD_ATTEMPTS", "ProviderCaller"]

log = logging.getLogger("imagegate.gateway")

DOWNLOAD_ATTEMPTS = 3
"""Tries to fetch one output URL of an upstream that was already paid."""


class ProviderCaller:
    """The pipeline stage that turns a :class:`~imagegate._jobs.Job` into provider results."""

    def __init__(self, *, session: Callable[[], aiohttp.ClientSession], run_step: RunStep,
                 emit: Callable[[Event], None], sleep: Callable[[float], Awaitable[None]],
                 make_limiter: MakeLimiter | None = None) -> None:
        self._session = session
        self._run_step = run_step
        self._emit = emit
        self._sleep = sleep
        self._make_limiter = make_limiter
        self._limiters: dict[str, Limiter] = {}

    async def call(self, job: Job) -> list[ProviderResult]:
        """One call, or one per image for models whose API has no count field."""
        if job.spec.n_param is not None or job.valid.n == 1:
            return [await self._call(job, job.valid.n)]
        job.progress("fan_out", {"calls": job.valid.n})
        try:
            async with asyncio.TaskGroup() as group:  # one failure cancels the others' upstream work
                tasks = [group.create_task(self._call(job, 1)) for _ in range(job.valid.n)]
        except BaseExceptionGroup as group_error:
            first = group_error.exceptions[0]
            raise first.with_traceback(first.__traceback__) from None
        return [task.result() for task in tasks]

    def _limiter(self, job: Job) -> Limiter:
        """The provider's limiter, made at its first call: a plugin's, else the in-process one."""
        name = job.spec.provider
        if name not in self._limiters:
            limits = job.limits
            supplied = self._make_limiter(name, limits.max_concurrency, limits.rpm) if self._make_limiter else None
            self._limiters[name] = supplied or ProviderLimiter(
                name, max_concurrency=limits.max_concurrency, rpm=limits.rpm, sleep=self._sleep)
        return self._limiters[name]

    async def _call(self, job: Job, n: int) -> ProviderResult:
        limiter = self._limiter(job)
        attempts = 0

        async def attempt(number: int) -> ProviderResult:
            nonlocal attempts
            attempts = number
            step = Step("provider_attempt", {
                "provider": job.spec.provider, "model": job.spec.id, "attempt": number,
                "operation": job.operation, "request_id": job.request_id})
            call = self._provider_call(job, n, number, step.outbound_headers)
            async with limiter.slot(job.deadline):
                job.attempted = True
                if job.delivery.job_hooks is not None:
                    job.delivery.job_hooks.started(job.spec.id, job.estimated_usd)
                return await self._run_step(step, lambda: _attempt(job, call))  # type: ignore[no-any-return]

        def on_retry(number: int, exc: ImagegateError, delay: float) -> None:
            job.retries += 1
            self._emit(RetryScheduled(**job.event_fields(), attempt=number, reason=exc.code, delay_s=delay))
            job.progress("retrying", {"attempt": number, "reason": exc.code, "delay_s": delay})

        try:
            async with asyncio.timeout_at(job.deadline):
                return await retrying(attempt, max_attempts=job.limits.max_retries + 1, sleep=self._sleep,
                                      deadline=job.deadline, on_retry=on_retry)
        except TimeoutError:
            msg = f"{job.spec.provider} did not answer within {job.limits.timeout_s:g} s ({attempts} attempt(s))"
            raise Timeout(msg, provider=job.spec.provider) from None

    def _provider_call(self, job: Job, n: int, attempt: int, headers: dict[str, str]) -> ProviderCall:
        hooks = job.delivery.job_hooks
        return ProviderCall(
            operation=job.operation, model=job.spec, prompt=job.valid.prompt, size=job.valid.size, n=n,
            params=job.valid.params, images=job.images, mask=job.mask, request_id=job.request_id,
            attempt=attempt, deadline=job.deadline, session=self._session(),
            download=lambda url: self.download_paid(job, url), progress=job.progress, stream=job.stream,
            headers=headers, keep_base64=job.delivery.keep_base64, markup=job.markup,
            grid=job.grid, record_upstream=hooks.upstream if hooks else _ignore,
            resume_from=hooks.resume_from if hooks and attempt == 1 else None)

    async def download_paid(self, job: Job, url: str) -> bytes:
        """Fetch an output of a paid call, retrying the download (never the call)."""
        provider = job.spec.provider
        max_bytes = int(job.limits.max_download_mb * 1024 * 1024)

        async def attempt(number: int) -> bytes:
            step = Step("download", {"provider": provider, "model": job.spec.id,
                                     "host": urlsplit(url).hostname, "attempt": number})
            return await self._run_step(step, lambda: download(  # type: ignore[no-any-return]
                self._session(), url, max_bytes=max_bytes, provider=provider,
                headers=step.outbound_headers or None, private_ok=job.limits.base_url))

        try:
            return await retrying(attempt, max_attempts=DOWNLOAD_ATTEMPTS, sleep=self._sleep, base=0.5)
        except UpstreamError as exc:
            if not exc.retryable:
                raise
            msg = (f"{exc.message} ({DOWNLOAD_ATTEMPTS} attempts); the {provider} call was paid for, so the "
                   "gateway does not repeat it")
            raise UpstreamError(msg, provider=provider, retryable=False) from None


def _ignore(info: dict[str, Any]) -> None:
    return None


async def _attempt(job: Job, call: ProviderCall) -> ProviderResult:
    """One provider attempt, with whatever it raises turned into an :class:`ImagegateError`; every
    upstream body it reads stops at the provider's ``MAX_DOWNLOAD_MB``."""
    import aiohttp

    provider = job.provider
    try:
        with body_limit(int(job.limits.max_download_mb * 2**20)):
            resume = getattr(provider, "resume", None) if call.resume_from else None
            result = await (resume(call) if resume is not None else provider.run(call))
    except ImagegateError as exc:
        exc.provider = exc.provider or provider.name
        raise
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ConnectionError) as exc:
        msg = f"connection to {provider.name} failed: {type(exc).__name__}"
        raise UpstreamError(msg, provider=provider.name) from None
    except TimeoutError:
        msg = f"{provider.name} stopped sending data (read timeout)"
        raise UpstreamError(msg, provider=provider.name) from None
    except Exception as exc:
        log.exception("provider %s raised an unexpected %s", provider.name, type(exc).__name__)
        msg = f"the {provider.name} provider failed unexpectedly ({type(exc).__name__})"
        raise InternalError(msg, provider=provider.name) from None
    if not result.images:
        msg = f"{provider.name} answered without any image"
        raise UpstreamError(msg, provider=provider.name)
    return result
