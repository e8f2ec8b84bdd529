"""Retention: deleting images stored too long ago, or the oldest ones while the store is too big.

A pass lists the backend (:meth:`~imagegate._storage.Storage.inventory`: ids, sizes and storage
times, no bodies), finds which ids to keep (the stored inputs of unfinished jobs, and whatever the
plugins name through the ``protected_image_ids`` hook), then deletes, oldest first, every other image stored more than
``STORAGE__RETENTION_DAYS`` ago and, while the store still holds more than
``STORAGE__MAX_SIZE_GB``, the oldest remaining ones. An image stored less than
``STORAGE__RETENTION_GRACE_H`` ago is never deleted, even when the cap cannot be met without it.
Each deletion is logged (id, bytes, reason) and emitted as an
:class:`~imagegate._events.ImageDeleted` event. The spool is never touched: images waiting there
were paid for and have not reached the backend yet.

The built-in ``retention`` plugin runs a pass every ``STORAGE__GC_INTERVAL_S`` while a gateway is
open; ``imagegate gc`` runs one now.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from ._errors import ImagegateError, NotFound, StorageError
from ._events import ImageDeleted

if TYPE_CHECKING:
    from ._gateway import Gateway
    from ._settings import StorageSettings
    from ._storage import StoredEntry

__all__ = ["GcReport", "RetentionPolicy", "collect_garbage", "plan_deletions", "protected_ids",
           "run_periodically"]

log = logging.getLogger("imagegate.retention")

Reason = Literal["age", "size"]

_GB = 1024**3


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """What retention keeps (``None``: no limit of that kind)."""

    max_age: timedelta | None = None
    max_bytes: int | None = None
    grace: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, storage: StorageSettings) -> RetentionPolicy:
        return cls(max_age=timedelta(days=storage.retention_days) if storage.retention_days else None,
                   max_bytes=round(storage.max_size_gb * _GB) if storage.max_size_gb else None,
                   grace=timedelta(hours=storage.retention_grace_h))

    @property
    def active(self) -> bool:
        return self.max_age is not None or self.max_bytes is not None


@dataclass(slots=True)
class GcReport:
    """What one pass deleted (or, with ``dry_run``, would delete)."""

    dry_run: bool
    active: bool
    deleted: list[tuple[StoredEntry, Reason]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    protected: int = 0
    stored_images: int = 0
    stored_bytes: int = 0

    @property
    def bytes(self) -> int:
        return sum(entry.bytes for entry, _ in self.deleted)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "retention": self.active, "count": len(self.deleted),
                "bytes": self.bytes, "ids": [entry.image_id for entry, _ in self.deleted],
                "reasons": {entry.image_id: reason for entry, reason in self.deleted},
                "failed": self.failed, "protected": self.protected,
                "stored_images": self.stored_images, "stored_bytes": self.stored_bytes}


def plan_deletions(entries: Iterable[StoredEntry], policy: RetentionPolicy, protected: set[str],
                   now: datetime) -> list[tuple[StoredEntry, Reason]]:
    """The images to delete, oldest first, and why: past the maximum age, then the oldest others
    while the store is over its cap. Protected images and those within the grace period stay."""
    ordered = sorted(entries, key=lambda entry: (entry.stored_at, entry.image_id))
    remaining = sum(entry.bytes for entry in ordered)
    chosen: list[tuple[StoredEntry, Reason]] = []
    over_age: list[StoredEntry] = []
    others: list[StoredEntry] = []
    for entry in ordered:
        age = now - entry.stored_at
        if entry.image_id in protected or age < policy.grace:
            continue
        (over_age if policy.max_age is not None and age > policy.max_age else others).append(entry)
    for entry in over_age:
        chosen.append((entry, "age"))
        remaining -= entry.bytes
    if policy.max_bytes is not None:
        for entry in others:
            if remaining <= policy.max_bytes:
                break
            chosen.append((entry, "size"))
            remaining -= entry.bytes
    chosen.sort(key=lambda pair: (pair[0].stored_at, pair[0].image_id))
    return chosen


async def protected_ids(gateway: Gateway) -> set[str]:
    """The inputs of unfinished jobs, and the ids every ``protected_image_ids`` implementation
    names; one that raises stops the pass."""
    ids = await gateway.jobs.protected_ids()
    for result in gateway.pm.hook.protected_image_ids(gateway=gateway):
        if inspect.isawaitable(result):
            result = await result
        ids.update(result or ())
    return ids


async def collect_garbage(gateway: Gateway, *, dry_run: bool = False, now: datetime | None = None) -> GcReport:
    """Run one retention pass over the gateway's storage backend (see the module docstring)."""
    policy = RetentionPolicy.from_settings(gateway.settings.storage)
    report = GcReport(dry_run=dry_run, active=policy.active)
    if not policy.active:
        return report
    if not callable(getattr(gateway.storage, "inventory", None)):
        msg = (f"storage backend {gateway.storage.name!r} has no inventory(), which retention needs; "
               "unset STORAGE__RETENTION_DAYS and STORAGE__MAX_SIZE_GB or update the backend")
        raise StorageError(msg, retryable=False)
    entries = await gateway.storage.inventory()
    protected = await protected_ids(gateway)
    report.stored_images = len(entries)
    report.stored_bytes = sum(entry.bytes for entry in entries)
    report.protected = sum(1 for entry in entries if entry.image_id in protected)
    for entry, reason in plan_deletions(entries, policy, protected, now or datetime.now(UTC)):
        if not dry_run:
            try:
                await gateway.storage.delete(entry.image_id)
            except NotFound:
                continue  # deleted meanwhile by someone else
            except StorageError as exc:
                log.warning("retention could not delete %s: %s", entry.image_id, exc.message)
                report.failed.append(entry.image_id)
                continue
            log.info("retention deleted %s (%d bytes, %s)", entry.image_id, entry.bytes, reason)
            gateway.emit(ImageDeleted(image_id=entry.image_id, bytes=entry.bytes, reason=reason))
        report.deleted.append((entry, reason))
    return report


async def run_periodically(gateway: Gateway, interval_s: float,
                           sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """A pass every ``interval_s`` seconds until cancelled; a failed pass is logged, not fatal."""
    while True:
        await sleep(interval_s)
        try:
            report = await collect_garbage(gateway)
        except Exception as exc:
            log.warning("retention pass failed, nothing more deleted; next try in %g s: %s",
                        interval_s, getattr(exc, "message", None) or type(exc).__name__,
                        exc_info=not isinstance(exc, ImagegateError))
            continue
        if report.deleted or report.failed:
            log.info("retention deleted %d image(s), %d bytes; %d failed",
                     len(report.deleted), report.bytes, len(report.failed))
