"""The built-in ``retention`` plugin: a retention pass every ``STORAGE__GC_INTERVAL_S`` while a
gateway is open (see :mod:`imagegate.retention`; ``imagegate gc`` runs one pass now).

The task starts when the gateway opens, only when a retention limit is set, runs its first pass
one interval later (so one-shot CLI commands never delete anything), and is cancelled when the
gateway closes. ``IMAGEGATE_DISABLE_PLUGINS=retention`` turns it off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate import hookimpl

if TYPE_CHECKING:
    from imagegate._gateway import Gateway

_TASK = "_imagegate_retention_task"
"""Name of the gateway attribute holding the periodic task."""


@hookimpl
def startup(gateway: Gateway) -> None:
    import asyncio

    from imagegate._retention import RetentionPolicy, run_periodically

    storage = gateway.settings.storage
    if storage.gc_interval_s and RetentionPolicy.from_settings(storage).active:
        vars(gateway)[_TASK] = asyncio.ensure_future(run_periodically(gateway, storage.gc_interval_s))


@hookimpl
def shutdown(gateway: Gateway) -> Any:
    import asyncio

    task: asyncio.Task[None] | None = vars(gateway).pop(_TASK, None)
    if task is None:
        return None
    task.cancel()
    return asyncio.gather(task, return_exceptions=True)
