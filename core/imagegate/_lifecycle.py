"""Model lifecycle, applied once per request right after the model is resolved.

A ``retired`` model is refused with :class:`~imagegate._errors.ModelRetired` naming its
replacement, or, with ``GATEWAY__RETIRED_MODELS=translate``, the request runs on the replacement
with its parameters translated and the result lists every change as ``substitutions``. A
``deprecated`` model still runs; its results carry ``deprecation``, a warning is logged once per
model and process, and a :class:`~imagegate._events.DeprecatedModelRequested` event is emitted.

Translation is generic, driven by the replacement's spec and the data below: a size becomes the
replacement's allowed size (or aspect ratio) nearest in shape, then in pixels; an enum value
becomes its first equivalent the replacement allows (:data:`EQUIVALENT_VALUES`); a number is
clamped to the allowed range; anything else the replacement does not take is dropped.

The default model is chosen here too (:func:`choose_default_model`): lifecycle decides which
recommended model is current.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import InvalidRequest, ModelRetired
from ._events import DeprecatedModelRequested

if TYPE_CHECKING:
    from ._catalog import ModelSpec, Operation, ParamSpec, SizeSpec
    from ._gateway import Gateway
    from ._models import ImageRequest
    from ._registry import ProviderRegistry

__all__ = [
    "EQUIVALENT_VALUES",
    "Lifecycle",
    "Substitution",
    "apply_lifecycle",
    "choose_default_model",
    "nearest_size",
    "translate_request",
]

log = logging.getLogger("imagegate.lifecycle")

EQUIVALENT_VALUES: dict[str, dict[Any, tuple[Any, ...]]] = {
    "quality": {
        "hd": ("high", "xhigh", "max"),
        "standard": ("medium", "auto"),
        "high": ("hd",),
        "medium": ("standard",),
        "low": ("standard",),
    },
}
"""Per parameter: a value -> the values that mean the same, best first (the first one the
replacement allows is used; with none allowed, the parameter is dropped)."""

FALLBACK_MODEL = "placeholder"
"""The default model when no provider with a recommended model is configured."""

_SIZE_RE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
_RATIO_RE = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")
_MAX_HOPS = 8
_warned: set[tuple[str, str]] = set()


@dataclass(frozen=True, slots=True)
class Substitution:
    """One change made to run a retired model's request on its replacement (``to`` None: dropped)."""

    param: str
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        return {"param": self.param, "from": self.old, "to": self.new}


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What lifecycle did to one request, for its result."""

    resolved_model: str | None = None
    substitutions: tuple[Substitution, ...] = ()
    deprecation: dict[str, str | None] | None = None

    def result_fields(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~imagegate._models.ImageResult`."""
        return {"resolved_model": self.resolved_model,
                "substitutions": [s.as_dict() for s in self.substitutions],
                "deprecation": self.deprecation}

    def notes(self) -> list[str]:
        """Human notes (the CLI prints them)."""
        notes = []
        if self.resolved_model:
            changes = ", ".join(f"{s.param} {s.old!r} -> {'dropped' if s.new is None else repr(s.new)}"
                                for s in self.substitutions)
            notes.append(f"the requested model is retired; ran {self.resolved_model} instead ({changes})")
        if self.deprecation:
            notes.append(_deprecation_text(self.deprecation))
        return notes


def apply_lifecycle(gateway: Gateway, spec: ModelSpec, operation: Operation, request: ImageRequest, *,
                    request_id: str | None = None, frontend: str = "api",
                    ) -> tuple[ModelSpec, ImageRequest, Lifecycle]:
    """The model to run and the request to send it, after refusing or translating a retired model
    and noting a deprecated one. With ``request_id`` (a real request, not an estimate) a
    deprecated model's use is also emitted as an event."""
    resolved: str | None = None
    substitutions: tuple[Substitution, ...] = ()
    if spec.status == "retired":
        replacement = _replacement(gateway.registry, spec)
        if gateway.settings.gateway.retired_models != "translate" or replacement is None:
            raise _retired_error(spec, replacement)
        if operation not in replacement.operations:
            msg = (f"{spec.id} is retired and its replacement {replacement.id} does not support {operation} "
                   f"(it supports: {', '.join(replacement.operations)})")
            raise ModelRetired(msg, replacement=replacement.id, provider=spec.provider)
        request, changes = translate_request(spec, replacement, operation, request)
        substitutions = (Substitution("model", spec.id, replacement.id), *changes)
        spec, resolved = replacement, replacement.id
    deprecation = None
    if spec.status == "deprecated":
        deprecation = {"shutdown_date": _iso(spec), "replacement": spec.replacement}
        _warn_once(spec, deprecation)
        if request_id is not None:
            gateway.emit(DeprecatedModelRequested(
                request_id=request_id, frontend=frontend, provider=spec.provider, model=spec.id,
                operation=operation, shutdown_date=deprecation["shutdown_date"],
                replacement=spec.replacement))
    return spec, request, Lifecycle(resolved, substitutions, deprecation)


def _iso(spec: ModelSpec) -> str | None:
    return spec.shutdown_date.isoformat() if spec.shutdown_date else None


def _deprecation_text(deprecation: dict[str, str | None]) -> str:
    when = f"shuts down on {deprecation['shutdown_date']}" if deprecation["shutdown_date"] else "will shut down"
    instead = f"; use {deprecation['replacement']} instead" if deprecation["replacement"] else ""
    return f"the model is deprecated and {when}{instead}"


def _warn_once(spec: ModelSpec, deprecation: dict[str, str | None]) -> None:
    key = (spec.provider, spec.id)
    if key in _warned:
        return
    _warned.add(key)
    log.warning("model %s (%s): %s", spec.id, spec.provider, _deprecation_text(deprecation))


def _replacement(registry: ProviderRegistry, spec: ModelSpec) -> ModelSpec | None:
    """The first model of the replacement chain that is not retired, or None."""
    seen = {spec.id}
    current = spec
    for _ in range(_MAX_HOPS):
        if not current.replacement:
            return None
        found = registry.find(current.replacement)
        if found is None or found.id in seen:
            return None
        if found.status != "retired":
            return found
        seen.add(found.id)
        current = found
    return None


def _retired_error(spec: ModelSpec, replacement: ModelSpec | None) -> ModelRetired:
    when = f" on {spec.shutdown_date.isoformat()}" if spec.shutdown_date else ""
    instead = f"; use {replacement.id} instead" if replacement else "; it has no replacement in the catalog"
    msg = f"model {spec.id} was retired{when}{instead}"
    return ModelRetired(msg, replacement=replacement.id if replacement else None, provider=spec.provider)


# translating a request ----------------------------------------------------------------------------


def translate_request(old: ModelSpec, new: ModelSpec, operation: Operation,
                      request: ImageRequest) -> tuple[ImageRequest, list[Substitution]]:
    """``request`` (written for ``old``) rewritten for ``new``, and the changes made."""
    changes: list[Substitution] = []
    params = dict(request.params)
    size = request.size
    if size is not None:
        size = _translate_size(size, new, params, changes)
    n = request.n
    if n is not None and not new.n_min <= n <= new.n_max:
        n = min(max(n, new.n_min), new.n_max)
        changes.append(Substitution("n", request.n, n))
    allowed = new.params_for(operation)
    for name, value in request.params.items():
        if value is None:
            continue
        mapped = _translate_value(name, value, allowed.get(name), new.id)
        if mapped != value:
            changes.append(Substitution(name, value, mapped))
        if mapped is None:
            params.pop(name, None)
        else:
            params[name] = mapped
    return request.model_copy(update={"model": new.id, "size": size, "n": n, "params": params}), changes


def _translate_size(size: str, new: ModelSpec, params: dict[str, Any], changes: list[Substitution]) -> str | None:
    if new.sizes is not None:
        if new.sizes.accepts(size):
            return size
        mapped = nearest_size(size, new.sizes)
        changes.append(Substitution("size", size, mapped))
        return mapped
    ratio = None
    if new.aspect_ratios and "aspect_ratio" not in params and "aspect_ratio" in new.params:
        ratio = _nearest(size, new.aspect_ratios, _RATIO_RE)
    changes.append(Substitution("size", size, None))
    if ratio is not None:
        params["aspect_ratio"] = ratio
        changes.append(Substitution("aspect_ratio", None, ratio))
    return None


def _translate_value(name: str, value: Any, param: ParamSpec | None, model_id: str) -> Any:
    """``value`` if ``param`` allows it, else its nearest allowed equivalent, else None (dropped)."""
    if param is None:
        return None
    try:
        return param.check(name, value, model_id)
    except InvalidRequest:
        pass
    if param.enum is not None:
        for candidate in EQUIVALENT_VALUES.get(name, {}).get(value, ()):
            if candidate in param.enum:
                return candidate
        return None
    if param.type in ("integer", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        clamped = min(max(value, param.minimum if param.minimum is not None else value),
                      param.maximum if param.maximum is not None else value)
        clamped = int(clamped) if param.type == "integer" else clamped
        try:
            return param.check(name, clamped, model_id)
        except InvalidRequest:
            return None
    return None


def _shape(text: str, pattern: re.Pattern[str]) -> tuple[float, float] | None:
    match = pattern.match(text)
    if not match or float(match[1]) == 0 or float(match[2]) == 0:
        return None
    return float(match[1]), float(match[2])


def _nearest(size: str, choices: list[str], pattern: re.Pattern[str]) -> str | None:
    """The choice closest to ``size`` in aspect ratio, then in pixel count (log scale)."""
    wanted = _shape(size, _SIZE_RE)
    if wanted is None:
        return None
    best: tuple[tuple[float, float], str] | None = None
    for choice in choices:
        shape = _shape(choice, pattern)
        if shape is None:
            continue
        score = (round(abs(math.log(shape[0] / shape[1]) - math.log(wanted[0] / wanted[1])), 9),
                 abs(math.log(shape[0] * shape[1] / (wanted[0] * wanted[1]))) if pattern is _SIZE_RE else 0.0)
        if best is None or score < best[0]:
            best = (score, choice)
    return best[1] if best else None


def nearest_size(size: str, sizes: SizeSpec) -> str | None:
    """The size ``sizes`` allows that is nearest to ``size`` (aspect ratio first, then pixels):
    one of its listed sizes, or ``size`` scaled and rounded to fit its rule."""
    candidates = [value for value in sizes.values or [] if _SIZE_RE.match(value)]
    shape = _shape(size, _SIZE_RE)
    if sizes.is_rule() and shape is not None:
        candidates += _fitted(shape, sizes)
    return _nearest(size, [c for c in candidates if sizes.accepts(c)], _SIZE_RE)


def _fitted(shape: tuple[float, float], sizes: SizeSpec) -> list[str]:
    """``shape`` scaled into the rule's side and pixel bounds, sides rounded down and up."""
    width, height = shape
    scale = 1.0
    if sizes.max_side:
        scale = min(scale, sizes.max_side / max(width, height))
    if sizes.max_pixels:
        scale = min(scale, math.sqrt(sizes.max_pixels / (width * height)))
    if sizes.min_side:
        scale = max(scale, sizes.min_side / min(width, height))
    if sizes.min_pixels:
        scale = max(scale, math.sqrt(sizes.min_pixels / (width * height)))
    step = sizes.multiple_of or 1
    out = []
    for rounding in (math.floor, math.ceil):
        w = max(step, rounding(width * scale / step) * step)
        h = max(step, rounding(height * scale / step) * step)
        out.append(f"{w}x{h}")
    return out


# the default model --------------------------------------------------------------------------------


def choose_default_model(configured: str | None, registry: ProviderRegistry) -> str:
    """``configured`` when set; else the recommended, not retired model of the first provider
    (in registration order) whose readiness check passes (it has a key); else ``placeholder``."""
    if configured:
        return configured
    for name in registry.providers:
        recommended = [spec for spec in registry.models.values()
                       if spec.provider == name and spec.recommended and spec.status != "retired"]
        if not recommended:
            continue
        if registry.ready(recommended[0]):
            return recommended[0].id
    return FALLBACK_MODEL
