"""Who is calling, and what their key allows: models, a request rate and a budget.

Front-ends turn a bearer key into a :class:`Caller` (:meth:`KeyRing.identify`); the pipeline then
holds every request of a virtual key to its limits, before any money is spent
(:meth:`KeyRing.spending`): the model must be one of the key's, a start must fit its rate, and the
request's estimated cost is reserved against what is left of its budget. When the request ends the
reservation is replaced by what was paid (the actual cost, else the estimate; nothing when no
image came back), failed-after-paid requests included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import PermissionDenied, QuotaExceeded, RateLimited
from ._events import KeySpent
from ._job_runs import LOCAL, owner_of
from ._keys import AuthFailures, KeyRates, KeyStore, VirtualKey, key_digest, period_of
from ._limits import SlidingWindow

if TYPE_CHECKING:
    from ._events import Event
    from ._jobs import Job

__all__ = ["Caller", "KeyRing", "LocalKeyRates"]

_CACHE_S = 5.0
"""How long a looked-up key is trusted before it is read again (a revocation takes effect within it)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A request's caller: the owner of what it makes, and its virtual key (None for a key from
    ``GATEWAY__API_KEYS`` or no key). ``admin`` callers see every owner's images and jobs."""

    owner: str = LOCAL
    key: VirtualKey | None = None
    admin: bool = False

    @classmethod
    def static(cls, token: str | None) -> Caller:
        """A caller with a key from ``GATEWAY__API_KEYS`` (or none): the operator's own, admin."""
        return cls(owner=owner_of(token), admin=token is not None)

    @property
    def jobs_owner(self) -> str | None:
        """Whose jobs this caller reads, waits for and cancels: its own, every owner's (None) for an admin."""
        return None if self.admin else self.owner

    def sees(self, metadata: dict[str, Any]) -> bool:
        """Whether this caller may see a stored image (or job): its own, or any for an admin. An
        image stored without an owner (by the CLI, or before keys) is ``local``'s."""
        return self.admin or metadata.get("owner", LOCAL) == self.owner


class LocalKeyRates:
    """Each key's requests a minute counted in this process (a :class:`SlidingWindow` per key)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, SlidingWindow] = {}

    async def take_start(self, name: str, rpm: int) -> float:
        return self._windows.setdefault(name, SlidingWindow(rpm)).take(self._clock())


class KeyRing:
    """Virtual keys: looked up by digest (cached briefly), and held to their limits. Rates are
    counted by the store when it keeps them too (:class:`~imagegate._keys.KeyRates`, e.g. shared
    by every replica), else in this process; ``failures`` is the store when it counts failed key
    attempts (:class:`~imagegate._keys.AuthFailures`), else None (each front-end counts its own)."""

    def __init__(self, store: KeyStore, emit: Callable[[Event], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.rates: KeyRates = store if isinstance(store, KeyRates) else LocalKeyRates(clock)
        self.failures: AuthFailures | None = store if isinstance(store, AuthFailures) else None
        self._emit = emit
        self._clock = clock
        self._cache: dict[str, tuple[float, VirtualKey | None]] = {}
        self._any: tuple[float, bool] | None = None

    async def any(self) -> bool:
        """Whether any virtual key is active (then every network front-end asks for a key)."""
        now = self._clock()
        if self._any is None or now - self._any[0] > _CACHE_S:
            self._any = (now, any(key.revoked_at is None for key in await self.store.all()))
        return self._any[1]

    async def identify(self, token: str) -> Caller | None:
        """The caller a virtual key stands for; None for an unknown or revoked key."""
        digest = key_digest(token)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is None or now - cached[0] > _CACHE_S:
            if len(self._cache) > 10_000:
                self._cache.clear()
            cached = (now, await self.store.find(digest))
            self._cache[digest] = cached
        key = cached[1]
        if key is None or key.revoked_at is not None:
            return None
        return Caller(owner=key.owner, key=key, admin=key.admin)

    async def _admit(self, key: VirtualKey, job: Job) -> None:
        spec = job.spec
        if key.models and not {spec.id, spec.qualified_id, *spec.aliases} & set(key.models):
            msg = f"the key {key.name!r} may use only these models: {', '.join(key.models)}"
            raise PermissionDenied(msg, param="model")
        if key.rpm is not None:
            wait = await self.rates.take_start(key.name, key.rpm)
            if wait:
                msg = f"the key {key.name!r} is limited to {key.rpm} requests a minute; retry in {wait:.0f} s"
                raise RateLimited(msg, retry_after=round(wait, 3))

    @asynccontextmanager
    async def spending(self, job: Job) -> AsyncIterator[None]:
        """Hold the request to its key's models, rate and budget around the upstream call."""
        key = job.delivery.caller.key if job.delivery.caller else None
        if key is None:
            yield
            return
        await self._admit(key, job)
        period = period_of(key.budget_period)
        reserved = job.estimated_usd or 0.0
        if key.budget_usd is not None and job.estimated_usd is None:
            msg = (f"{job.spec.id} cannot be priced before the call, and the key {key.name!r} has a budget; "
                   "use a model with known prices")
            raise QuotaExceeded(msg, param="model")
        left = await self.store.reserve(key.name, period, reserved, key.budget_usd)
        if left is not None:
            msg = (f"the key {key.name!r} has ${left:.4f} left of its ${key.budget_usd:g} {key.budget_period} "
                   f"budget; this request is estimated at ${reserved:.4f}")
            raise QuotaExceeded(msg, retryable=False)
        try:
            yield
        finally:
            paid = job.paid
            spent = 0.0 if paid is None else (paid.actual_usd if paid.actual_usd is not None
                                              else paid.estimated_usd or 0.0)
            await asyncio.shield(self.store.settle(key.name, period, reserved, spent))
            if spent:
                self._emit(KeySpent(**job.event_fields(), key=key.name, usd=spent, period=period))
