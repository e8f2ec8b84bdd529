"""Every hook a plugin can implement. The whole extension surface of imagegate is this file.

Hooks are synchronous; the objects they hand over (providers, storage backends, middleware) are
async. pluggy cannot wrap awaited results, so tracing and metering come through
:func:`step_middleware` instead of pluggy wrappers. A hook may gain arguments over time; an
implementation asks only for the ones it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from aiohttp import web

    from ._events import Event
    from ._gateway import Gateway
    from ._middleware import Middleware
    from ._job_store import JobStoreRegistry
    from ._limits import Limiter
    from ._registry import ProviderRegistry, StorageRegistry
    from ._settings import Settings
    from ._settings_registry import SettingsRegistry

hookspec = pluggy.HookspecMarker("imagegate")


@hookspec
def register_providers(register: ProviderRegistry, settings: Settings) -> None:
    """Register providers and the models they serve.

    Called once when a :class:`~imagegate.Gateway` is built. Call
    ``register.add_provider(provider)`` with an object following
    :class:`~imagegate.Provider`, and ``register.add_model(spec)`` for each
    :class:`~imagegate.ModelSpec` it serves. ``settings`` is the effective configuration;
    read your own section with ``settings.provider(name, YourSettings)``. Return nothing.
    Do no network I/O here: a missing key is reported by ``Provider.check_ready`` at call time.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def register_storage(register: StorageRegistry) -> None:
    """Register storage backends by name.

    Called once when a gateway is built. Call ``register.add_storage(name, factory)`` where
    ``factory(settings)`` returns an object following :class:`~imagegate.Storage`; the
    gateway calls the factory of the backend named by ``STORAGE__BACKEND`` only. Return nothing.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add top-level commands to the ``imagegate`` CLI.

    Called once when the CLI starts, with the root click group; add commands with
    ``cli.add_command``. Import heavy libraries inside the command, not at module level, so
    ``imagegate --help`` stays fast. Return nothing.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def serve_subcommand(serve: click.Group) -> None:
    """Add a server to ``imagegate serve`` (``imagegate serve http``, ``imagegate serve mcp``).

    Called once when the CLI starts, with the ``serve`` click group. The command builds its own
    gateway with :func:`imagegate.open_gateway`. Return nothing.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def register_routes(app: web.Application, gateway: Gateway) -> None:
    """Add routes to the HTTP front-end's aiohttp application (e.g. ``/metrics``).

    Called once when the HTTP app is created, before it starts. Add routes with
    ``app.router.add_get(...)``. Routes added here need no gateway key. Return nothing.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def step_middleware(gateway: Gateway) -> Middleware | None:
    """Contribute an async middleware put around every step of a request.

    Called once when a gateway is built. Return ``async def middleware(step, call_next)`` or
    None. ``step`` is a :class:`~imagegate.Step` (``kind`` is ``request``,
    ``provider_attempt``, ``download`` or ``storage_write``, with its attributes); the middleware
    must ``return await call_next()`` and learns the outcome from what that returns (for a
    ``request``, the :class:`~imagegate.ImageResult`) or raises. Middlewares of several
    plugins nest in registration order. Used for tracing and metering, so neither providers nor
    front-ends contain observability code.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def provider_call_wrapper(gateway: Gateway) -> Middleware | None:
    """Deprecated name of :func:`step_middleware` (it wraps every step, not only provider calls).

    Called once when a gateway is built, like :func:`step_middleware`; implementations of either
    name are used, those of ``step_middleware`` outermost. Implement ``step_middleware`` instead.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def track_event(gateway: Gateway, event: Event) -> None:
    """Learn that something happened: a request started, was retried, stored, finished or failed.

    Called synchronously on the event loop for each :class:`imagegate.Event`; keep it quick
    and never raise (an exception is logged and ignored). Return nothing.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def startup(gateway: Gateway) -> Any:
    """Run when a gateway opens (after storage is checked), e.g. to drain a spool.

    Return None, or an awaitable that the gateway awaits before serving.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def shutdown(gateway: Gateway) -> Any:
    """Run when a gateway closes: stop what :func:`startup` started and flush what is buffered.

    Called after paid-for work still running has been stored and before providers and storage
    close, so the gateway is still fully usable. Return None, or an awaitable that the gateway
    awaits; do blocking work (joining threads, exporting) in a thread. Every implementation is
    called (not ``firstresult``); one that raises is logged and the others still run.
    """


@hookspec
def protected_image_ids(gateway: Gateway) -> Any:
    """Name stored images that retention must not delete (e.g. inputs and outputs of unfinished jobs).

    Called at each retention pass (periodic or ``imagegate gc``), after the store is listed and
    before anything is deleted. Return an iterable of image ids, or an awaitable of one. An
    implementation that raises stops the pass: nothing is deleted.
    Every implementation is called (not ``firstresult``); the ids of all are kept.
    """


@hookspec
def register_settings(register: SettingsRegistry) -> None:
    """Declare the configuration sections this plugin reads, with the pydantic model of each.

    Called whenever settings are loaded. Call ``register.add_section(path, Model)`` with a dotted
    lower-case ``path`` (``providers.<name>``, ``storage.<backend>``, or a top-level name such as
    ``mcp``): the section's values are then kept in :class:`~imagegate.Settings` for you
    (read them with ``settings.section(path, Model)``, or ``settings.provider(name, Model)`` for a
    provider), and a key that no declared model has is refused with the nearest valid name
    (``GATEWAY__DEFALT_MODEL``: did you mean ``GATEWAY__DEFAULT_MODEL``?). Several models may
    declare one section; a front-end adds its own ``gateway`` limits that way. Return nothing.
    Every implementation is called (not ``firstresult``).
    """


@hookspec
def register_job_stores(register: JobStoreRegistry) -> None:
    """Register job stores by name (the embedded ``sqlite`` one is built in), and key stores beside them.

    Called once when a gateway is built. Call ``register.add_job_store(name, factory)`` where
    ``factory(settings)`` returns an object following :class:`~imagegate.JobStore` (its
    ``heartbeat``, ``runners`` and ``claim`` let serving gateways take over a dead
    process's jobs, each by one of them); the gateway uses the one ``JOBS__BACKEND`` names. To keep virtual keys and their spending in the
    same backend, also call ``register.add_key_store(name, factory)`` where
    ``factory(settings, job_store)`` returns a :class:`~imagegate.KeyStore` (it may share the job
    store's connection); if that store also has ``async take_start(name, rpm) -> float`` (0, or
    the seconds to wait), per-key rates are counted there too, e.g. across replicas. Without a
    key store, keys stay in the jobs' SQLite file and rates in each process. Return nothing.
    Every implementation is called (not ``firstresult``).
    """


@hookspec(firstresult=True)
def provider_limiter(gateway: Gateway, provider: str, max_concurrency: int, rpm: int | None) -> Limiter | None:
    """Supply the limiter that holds one provider's concurrency and requests-per-minute limits.

    Called once per provider, at its first upstream call, with the provider's
    ``PROVIDERS__<NAME>__MAX_CONCURRENCY`` and ``__RPM``. Return an object with
    ``slot(deadline)``, an async context manager held around each upstream attempt that raises
    :class:`~imagegate.RateLimited` when no slot frees up before ``deadline`` (event-loop clock),
    e.g. one shared by every replica; or None for the default in-process limiter.
    The first implementation returning a limiter wins (``firstresult``).
    """
