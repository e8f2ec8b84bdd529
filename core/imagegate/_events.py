"""Events the gateway emits through the ``track_event`` hook (metrics, logs, audits)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DeprecatedModelRequested",
    "Event",
    "ImageDeleted",
    "ImageStored",
    "KeySpent",
    "RequestFailed",
    "RequestFinished",
    "RequestStarted",
    "RetryScheduled",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Common fields: which request, through which front-end, for which model."""

    request_id: str
    frontend: str
    provider: str
    model: str
    operation: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestStarted(Event):
    """The model is resolved and the request valid: ``provider`` and ``model`` are the spec's."""

    parameters: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    n: int = 1
    size: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeprecatedModelRequested(Event):
    """A request named a deprecated model (it still runs); ``shutdown_date`` is ISO or None."""

    shutdown_date: str | None
    replacement: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryScheduled(Event):
    attempt: int
    reason: str
    delay_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageStored(Event):
    image_id: str
    bytes: int
    mime_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFinished(Event):
    duration_s: float
    images: int
    bytes: int
    estimated_usd: float | None
    actual_usd: float | None
    retries: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFailed(Event):
    """``estimated_usd``/``actual_usd`` are set when the provider was paid before the failure
    (the images came back but could not be stored): that money was spent all the same."""

    duration_s: float
    code: str
    retryable: bool
    message: str
    retries: int
    estimated_usd: float | None = None
    actual_usd: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageDeleted(Event):
    """Retention deleted a stored image; ``reason`` is ``age`` or ``size``. Not part of a request:
    the request fields are empty and ``frontend`` is ``retention``."""

    request_id: str = ""
    frontend: str = "retention"
    provider: str = ""
    model: str = ""
    operation: str = ""
    image_id: str
    bytes: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySpent(Event):
    """A virtual key's request ended having cost ``usd`` (actual, else estimated), counted against
    the key's budget for ``period`` (``2026-12-05`` or ``2026-12``)."""

    key: str
    usd: float
    period: str
