"""What a provider plugin implements, and what the gateway hands it for one upstream attempt.

A provider makes exactly one attempt per call and raises the errors :mod:`imagegate` exports for failures;
the gateway owns validation, deadlines, concurrency and rate limits, retries, byte verification,
storage, tracing and metering. So a provider is only the translation between the gateway's
request and one upstream API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict, runtime_checkable

from ._pricing import Usage

if TYPE_CHECKING:
    import aiohttp

    from ._catalog import ModelSpec, Operation
    from ._grids import Grid

__all__ = [
    "BaseProvider",
    "InputImage",
    "ListsUpstreamModels",
    "Progress",
    "Provider",
    "ProviderCall",
    "ProviderImage",
    "ProviderResult",
    "UpstreamModel",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class InputImage:
    """An input image, already resolved, size-checked and type-checked by the gateway."""

    data: bytes
    mime_type: str
    filename: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class ProviderImage:
    """One output image: its bytes, or the bytes already downloaded from an upstream URL.

    ``b64`` is optional: the canonical base64 of ``data`` exactly as the upstream sent it, so a
    front-end answering base64 can send it without encoding again (set it only when
    ``base64(data) == b64``).
    """

    data: bytes | bytearray | memoryview
    mime_type: str | None = None
    revised_prompt: str | None = None
    seed: int | None = None
    b64: bytes | bytearray | memoryview | None = field(default=None, repr=False)


@dataclass(slots=True)
class ProviderResult:
    """What one successful upstream attempt produced."""

    images: list[ProviderImage]
    usage: Usage | None = None
    provider_request_id: str | None = None
    model_version: str | None = None
    actual_cost_usd: float | None = None


Progress = Callable[[str, dict[str, Any]], None]
"""Report a status change: ``progress("starting", {"status": "starting"})``."""


@dataclass(slots=True)
class ProviderCall:
    """One attempt, as the gateway hands it to a provider.

    Send ``headers`` with every upstream request of this attempt (trace context). With
    ``stream`` set (only for models whose spec says ``streaming``), report partial images as
    ``progress("partial_image", {"index": i, "b64_json": ..., "mime_type": ...})``.
    With ``keep_base64`` the caller answers base64, so the upstream's canonical base64 is worth
    passing on as :attr:`ProviderImage.b64`; without it, a provider should not hold that text.
    """

    operation: Operation
    model: ModelSpec
    prompt: str | None
    size: str | None
    n: int
    params: dict[str, Any]
    images: list[InputImage]
    mask: InputImage | None
    request_id: str
    attempt: int
    deadline: float
    session: aiohttp.ClientSession
    download: Callable[[str], Awaitable[bytes]]
    progress: Progress
    stream: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    keep_base64: bool = False
    markup: InputImage | None = None
    grid: Grid | None = None
    """Set for a grid request (the prompt already describes the layout); most providers ignore it."""
    record_upstream: Callable[[dict[str, Any]], None] = field(default=lambda info: None)
    """Record resumable upstream work (JSON, e.g. ``{"prediction": {...}}``) on the request's job, so a
    restarted gateway can hand it back through ``resume_from`` instead of paying again."""
    resume_from: dict[str, Any] | None = None
    """What ``record_upstream`` recorded before a restart: a provider with an ``async resume(call)``
    method follows that work instead of starting new work (``run`` is called otherwise)."""

    def remaining(self) -> float:
        """Seconds until the request's deadline (event-loop clock)."""
        import asyncio

        return max(0.0, self.deadline - asyncio.get_running_loop().time())


@runtime_checkable
class Provider(Protocol):
    """A provider plugin's object, registered with ``register.add_provider``.

    A provider may add ``async resume(call) -> ProviderResult``, following the upstream work that
    ``call.resume_from`` names (recorded through ``call.record_upstream`` before a restart).

    ``cancellable`` says whether abandoning a call stops upstream spending (a Replicate prediction
    can be cancelled; an OpenAI request, once sent, is paid for, so the gateway finishes and stores
    it even when the caller goes away). A provider may also implement
    :class:`ListsUpstreamModels` (``imagegate models --check`` uses it).
    """

    name: str
    cancellable: bool

    def check_ready(self, model: ModelSpec) -> None:
        """Raise :class:`~imagegate._errors.AuthenticationError` naming the variable to set
        when the provider cannot be called (no key); called before any upstream request."""

    async def run(self, call: ProviderCall) -> ProviderResult:
        """Make one upstream attempt for ``call.operation`` and return the images."""

    async def resolve(self, model_id: str, session: aiohttp.ClientSession) -> ModelSpec | None:
        """A spec for an id the catalog does not list (e.g. ``replicate/owner/name``), or None."""

    async def aclose(self) -> None:
        """Release what the provider opened (caches, sessions of its own)."""


class UpstreamModel(TypedDict):
    """One model an upstream says it serves (``imagegate models --check`` compares them)."""

    id: str
    """The upstream's model id (compared with :attr:`ModelSpec.upstream`)."""
    shutdown_date: str | None
    """``YYYY-MM-DD`` when the upstream announced one."""
    image: NotRequired[bool]
    """False for a model that makes no images; leave it out when the list holds image models only."""


@runtime_checkable
class ListsUpstreamModels(Protocol):
    """The optional part of :class:`Provider` that ``imagegate models --check`` uses: the models
    the upstream serves today (one listing call; raise the errors :mod:`imagegate` exports on failure)."""

    async def list_upstream_models(self, session: aiohttp.ClientSession) -> list[UpstreamModel]:
        """Ask the upstream which models it serves."""


class BaseProvider:
    """Defaults for the optional parts of :class:`Provider`; subclass and implement ``run``."""

    name: str = ""
    cancellable: bool = False

    def check_ready(self, model: ModelSpec) -> None:
        return None

    async def run(self, call: ProviderCall) -> ProviderResult:
        raise NotImplementedError

    async def resolve(self, model_id: str, session: aiohttp.ClientSession) -> ModelSpec | None:
        return None

    async def aclose(self) -> None:
        return None
