"""Redis for imagegate replicas (``REDIS__URL``): what several gateways must agree on, kept in one Redis.

* ``JOBS__BACKEND=redis``: the job store, so a job submitted on one replica can be read, awaited
  and cancelled on any other, and an idempotency key maps to one job across all of them; and the
  virtual keys (``imagegate keys``) with their budgets and rates, held across all of them;
* provider limits: each provider's RPM and max_concurrency held across every replica
  (``REDIS__SHARED_LIMITS``);
* the ``/files`` URL-signing key, made once and used by every replica when
  ``GATEWAY__URL_SIGNING_KEY`` is unset (``REDIS__SHARED_SIGNING_KEY``).

Unset ``REDIS__URL`` leaves the plugin idle. An unreachable Redis stops a gateway from starting,
naming ``REDIS__URL``; lost while serving, the operations that need it fail ``unavailable`` (503,
retryable) within about two ``REDIS__SOCKET_TIMEOUT_S``, and work again once it is back.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from imagegate import hookimpl

_SHARED: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()
"""Each open gateway's :class:`~imagegate_redis.shared.Shared`."""


@hookimpl
def register_settings(register: Any) -> None:
    from .settings import RedisSettings

    register.add_section("redis", RedisSettings)


@hookimpl
def register_job_stores(register: Any) -> None:
    from .job_store import RedisJobStore
    from .key_store import RedisKeyStore

    register.add_job_store("redis", RedisJobStore.from_settings)
    register.add_key_store("redis", RedisKeyStore.beside)


@hookimpl
def startup(gateway: Any) -> Any:
    from .settings import RedisSettings

    settings = gateway.settings.section("redis", RedisSettings)
    if settings.url is None:
        return None
    from .shared import Shared

    shared = _SHARED[gateway] = Shared(settings)
    return shared.open(gateway)


@hookimpl
def provider_limiter(gateway: Any, provider: str, max_concurrency: int, rpm: int | None) -> Any:
    shared = _SHARED.get(gateway)
    return None if shared is None else shared.limiter(provider, max_concurrency, rpm)


@hookimpl
def shutdown(gateway: Any) -> Any:
    shared = _SHARED.pop(gateway, None)
    return None if shared is None else shared.aclose()
