"""``imagegate doctor``: is this installation ready to make images? One :class:`Check` per question.

Configuration file found and valid; each provider configured (and, with ``verify``, its key
accepted by one listing call); storage writable; every plugin loaded; the default model ready.
A ``fail`` means something the user must fix; ``warn`` is worth knowing (a provider without a key).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pluggy

    from ._gateway import Gateway
    from ._settings import Settings

__all__ = ["Check", "run_checks"]

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def run_checks(*, verify: bool = False) -> list[Check]:
    """Every check, in the order a user fixes things; checks that need a valid configuration are
    skipped when it is not."""
    from ._plugins import make_plugin_manager

    pm = make_plugin_manager()
    config, settings = _config()
    checks = [config, *_plugins(pm)]
    if settings is None:
        return checks
    from ._errors import ImagegateError
    from ._gateway import Gateway

    try:
        gateway = Gateway(settings, pm)
    except ImagegateError as exc:
        return [*checks, Check("gateway", "fail", exc.message)]
    try:
        checks += await _providers(gateway, verify)
        checks += [await _storage(gateway), _default_model(gateway)]
    finally:
        await gateway.aclose()
    return checks


def _config() -> tuple[Check, Settings | None]:
    from pydantic import ValidationError

    from ._errors import ImagegateError
    from ._settings import Settings

    path = os.environ.get("IMAGEGATE_CONFIG")
    if path and not Path(path).is_file():
        return Check("config", "fail", f"IMAGEGATE_CONFIG names {path}, which is not a file"), None
    try:
        settings = Settings()
    except ValidationError as exc:  # the message only: the input may be a secret
        first = exc.errors()[0]
        where = "__".join(str(part) for part in first["loc"]).upper()
        return Check("config", "fail", f"{where}: {first['msg']}"), None
    except ImagegateError as exc:
        return Check("config", "fail", exc.message), None
    except (ValueError, OSError) as exc:  # unreadable file or invalid TOML (line and column)
        return Check("config", "fail", f"{path}: {exc}"), None
    detail = f"{path} is valid" if path else "no file (IMAGEGATE_CONFIG unset): environment and defaults"
    return Check("config", "ok", detail), settings


def _plugins(pm: pluggy.PluginManager) -> list[Check]:
    from ._plugins import plugin_infos

    infos = [info for info in plugin_infos(pm) if not info.builtin]
    if not infos:
        return [Check("plugins", "warn", "no plugins installed: pip install 'imagegate[all]'")]
    return [Check(f"plugin {info.name}", "fail", f"broken: {info.error}") if info.error else
            Check(f"plugin {info.name}", "ok", f"loaded from {info.distribution or '?'} {info.version or ''}".strip())
            for info in infos]


async def _providers(gateway: Gateway, verify: bool) -> list[Check]:

    checks = []
    for name in sorted(gateway.registry.providers):
        specs = [spec for spec in gateway.models() if spec.provider == name]
        setup = gateway.registry.setup_needed(specs[0]) if specs else None
        if setup is not None:
            checks.append(Check(f"provider {name}", "warn", f"not configured: {setup}"))
        elif verify:
            checks.append(await _verify(gateway, name))
        else:
            checks.append(Check(f"provider {name}", "ok", "ready"))
    return checks


async def _verify(gateway: Gateway, name: str) -> Check:
    """One authenticated listing call, when the provider has one."""
    from aiohttp import ClientError

    from ._errors import ImagegateError
    from ._provider import ListsUpstreamModels

    provider = gateway.registry.providers[name]
    if not isinstance(provider, ListsUpstreamModels):
        return Check(f"provider {name}", "ok", "ready; it has no call to verify a key with")
    try:
        async with asyncio.timeout(gateway.provider_settings(name).timeout_s):
            listed = await provider.list_upstream_models(gateway.session)
    except ImagegateError as exc:
        return Check(f"provider {name}", "fail", f"{exc.code}: {gateway.redactor.text(exc.message)}")
    except (ClientError, TimeoutError, OSError) as exc:
        return Check(f"provider {name}", "fail", f"unreachable: {type(exc).__name__}")
    return Check(f"provider {name}", "ok", f"key accepted ({len(listed)} models listed)")


async def _storage(gateway: Gateway) -> Check:
    from ._errors import ImagegateError

    backend = gateway.settings.storage.backend
    try:
        await gateway.storage.check_writable()
    except ImagegateError as exc:
        return Check("storage", "fail", f"{backend}: {gateway.redactor.text(exc.message)}")
    return Check("storage", "ok", f"{backend}: writable")


def _default_model(gateway: Gateway) -> Check:

    name = gateway.default_model
    spec = gateway.registry.find(name)
    if spec is None:
        if "/" in name:
            return Check("default model", "warn", f"{name}: resolved by its provider at the first call")
        return Check("default model", "fail", f"{name} is not a model of any installed provider (imagegate models)")
    if spec.status == "retired":
        instead = f"; set GATEWAY__DEFAULT_MODEL={spec.replacement}" if spec.replacement else ""
        return Check("default model", "fail", f"{name} is retired{instead}")
    setup = gateway.registry.setup_needed(spec)
    if setup is not None:
        return Check("default model", "fail", f"{name} is not ready: {setup}")
    if spec.status == "deprecated":
        return Check("default model", "warn", f"{name} is deprecated (shuts down {spec.shutdown_date or '?'})")
    return Check("default model", "ok", f"{name} ({spec.provider}) is ready")
