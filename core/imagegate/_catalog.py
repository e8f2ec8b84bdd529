"""The declarative model catalog: what each model takes, and the check run before any upstream call.

A model is data (:class:`ModelSpec`): its operations, sizes (a list or a rule), count range, prompt
limit, the allowed values of each of its own parameters, cross-parameter requirements, output
formats and prices. Plugins register specs; users add or override them in the config file.
Every front-end validates through :func:`validate_request`, so an error always names the
parameter, the value given and the values allowed, and no money is spent on a request that the
model would refuse.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._errors import InvalidRequest
from ._formats import FORMAT_MIME

__all__ = [
    "FORMAT_MIME",
    "ModelSpec",
    "Operation",
    "ParamSpec",
    "Pricing",
    "PriceRule",
    "PriceSource",
    "Requirement",
    "SizeSpec",
    "Status",
    "ToolHint",
    "ValidRequest",
    "validate_request",
]

Operation = Literal["generate", "edit", "variation"]
Status = Literal["active", "deprecated", "retired"]
PriceSource = Literal["official", "unofficial", "unknown"]
"""Where a model's prices come from: the provider publishes them, third parties quote them (or
they are partly missing), or the catalog does not say."""
"""A model's lifecycle: ``deprecated`` still works (with a warning), ``retired`` is refused."""


_SIZE_RE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
_RESERVED = {"prompt", "model", "size", "n", "image", "images", "mask"}


def _fmt(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _quote(value: Any, limit: int = 100) -> str:
    """A caller's value or name as a message quotes it: its repr, at most ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


class ParamSpec(BaseModel):
    """One model-specific parameter: its JSON type and what values it allows."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["string", "integer", "number", "boolean"] = "string"
    description: str = ""
    enum: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    default: Any = None
    operations: list[Operation] | None = Field(None, description="Operations taking it; None = all.")

    def allowed(self) -> str:
        """Human description of the allowed values."""
        if self.enum is not None:
            return _fmt(self.enum)
        parts = [self.type]
        if self.minimum is not None and self.maximum is not None:
            parts.append(f"from {self.minimum:g} to {self.maximum:g}")
        elif self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        elif self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        if self.max_length is not None:
            parts.append(f"at most {self.max_length} characters")
        return " ".join(parts)

    def coerce(self, value: Any) -> Any:
        """Convert a string (from ``--param k=v`` or a form field) to the declared type."""
        if not isinstance(value, str) or self.type == "string":
            return value
        text = value.strip()
        if self.type == "boolean":
            lowered = text.lower()
            if lowered in {"true", "1", "yes", "on"}:
                return True
            if lowered in {"false", "0", "no", "off"}:
                return False
            return value
        try:
            return int(text) if self.type == "integer" else float(text)
        except ValueError:
            return value

    def check(self, name: str, value: Any, model_id: str) -> Any:
        """Return the value if allowed, else raise naming the parameter and the allowed values."""
        ok_type = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }[self.type]
        if not ok_type:
            msg = f"{name}={_quote(value)} is not a {self.type} ({model_id} takes {self.allowed()})"
            raise InvalidRequest(msg, param=name)
        if self.enum is not None and value not in self.enum:
            msg = f"{name}={_quote(value)} is not supported by {model_id}; allowed: {_fmt(self.enum)}"
            raise InvalidRequest(msg, param=name)
        too_low = self.minimum is not None and value < self.minimum
        too_high = self.maximum is not None and value > self.maximum
        if self.type in ("integer", "number") and (too_low or too_high):
            msg = f"{name}={_quote(value)} is out of range for {model_id}; allowed: {self.allowed()}"
            raise InvalidRequest(msg, param=name)
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            msg = f"{name} is {len(value)} characters; {model_id} takes at most {self.max_length}"
            raise InvalidRequest(msg, param=name)
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.type}
        if self.description:
            schema["description"] = self.description
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.default is not None:
            schema["default"] = self.default
        return schema


class SizeSpec(BaseModel):
    """Sizes a model takes: an explicit list (may include ``auto``), or a rule, or both."""

    model_config = ConfigDict(extra="forbid")

    values: list[str] | None = None
    multiple_of: int | None = None
    min_side: int | None = None
    max_side: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    max_aspect_ratio: float | None = None

    def describe(self) -> str:
        if self.values is not None and not self.is_rule():
            return _fmt(self.values)
        sides = [f"a multiple of {self.multiple_of}"] if self.multiple_of else []
        if self.min_side:
            sides.append(f"{self.min_side} to {self.max_side or 'any'}")
        elif self.max_side:
            sides.append(f"at most {self.max_side}")
        rule = [f"sides {' and '.join(sides)}"] if sides else []
        if self.max_pixels:
            rule.append(f"at most {self.max_pixels} pixels")
        if self.max_aspect_ratio:
            rule.append(f"aspect ratio at most {self.max_aspect_ratio:g}:1")
        text = f"WxH: {', '.join(rule)}" if rule else "WxH"
        return f"{_fmt(self.values)} or {text}" if self.values else text

    def is_rule(self) -> bool:
        return any(
            v is not None
            for v in (self.multiple_of, self.min_side, self.max_side, self.min_pixels, self.max_pixels)
        )

    def accepts(self, size: str) -> bool:
        if self.values is not None and size in self.values:
            return True
        if not self.is_rule():
            return False
        match = _SIZE_RE.match(size)
        if not match:
            return False
        width, height = int(match[1]), int(match[2])
        if not width or not height:
            return False
        checks = (
            not self.multiple_of or (width % self.multiple_of == 0 and height % self.multiple_of == 0),
            not self.min_side or min(width, height) >= self.min_side,
            not self.max_side or max(width, height) <= self.max_side,
            not self.min_pixels or width * height >= self.min_pixels,
            not self.max_pixels or width * height <= self.max_pixels,
            not self.max_aspect_ratio or max(width, height) / min(width, height) <= self.max_aspect_ratio,
        )
        return all(checks)


class Requirement(BaseModel):
    """A cross-parameter rule: when every ``when`` parameter has one of its values, each ``then``
    parameter must have one of its values (``None`` in a list allows leaving it out)."""

    model_config = ConfigDict(extra="forbid")

    when: dict[str, list[Any]]
    then: dict[str, list[Any]]


class PriceRule(BaseModel):
    """A price (or a token count) that applies when every ``match`` item equals the request's."""

    model_config = ConfigDict(extra="forbid")

    match: dict[str, Any] = Field(default_factory=dict)
    usd: float | None = None
    tokens: int | None = None
    tokens_per_megapixel: float | None = Field(
        None, description="Tokens scaled by the request's WxH size, for sizes no ``tokens`` rule lists.")

    def applies(self, values: dict[str, Any]) -> bool:
        return all(str(values.get(key)) == str(expected) for key, expected in self.match.items())

    def tokens_for(self, size: Any) -> int | None:
        """``tokens``, or ``tokens_per_megapixel`` times the pixels of a WxH ``size`` (rounded up)."""
        if self.tokens is not None:
            return self.tokens
        match = _SIZE_RE.match(str(size))
        if self.tokens_per_megapixel is None or match is None:
            return None
        return math.ceil(self.tokens_per_megapixel * int(match[1]) * int(match[2]) / 1e6)


class Pricing(BaseModel):
    """Prices for estimates and actual cost: per image, or per million tokens of each kind."""

    model_config = ConfigDict(extra="forbid")

    per_image: list[PriceRule] = Field(default_factory=list)
    text_input_per_mtok: float | None = None
    image_input_per_mtok: float | None = None
    text_output_per_mtok: float | None = None
    image_output_per_mtok: float | None = None
    output_tokens: list[PriceRule] = Field(
        default_factory=list, description="Typical image output tokens, for estimates."
    )
    input_tokens_per_image: int | None = Field(None, description="Typical tokens of an input image.")
    source: PriceSource = Field(
        "unknown", description="official: the provider's published prices; unofficial: third-party figures (or "
                               "part of the price missing), so estimates say so; unknown: not stated.")

    @property
    def unofficial(self) -> bool:
        return self.source == "unofficial"


class ToolHint(BaseModel):
    """An MCP per-model tool a provider declares for a model (e.g. ``generate-openai``).

    Models of one provider may share a tool name: the tool then takes a ``model`` argument
    choosing among them, defaulting to the one marked ``default`` (else the provider's
    recommended model, else the first)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Tool name, e.g. generate-openai.")
    title: str = Field(description="Short human title, e.g. 'Generate with OpenAI'.")
    description: str = Field(description="What the tool is good at: when an assistant should pick it.")
    default: bool = Field(False, description="The model this tool uses when none is named.")
    options: list[str] | None = Field(
        None, description="The model options the tool names as arguments (None: all); the others "
                          "are still taken, in params, and checked.")


class ModelSpec(BaseModel):
    """Everything the gateway knows about one model before it calls it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Short id, e.g. gpt-image-1.")
    provider: str = Field(description="Short name of the provider plugin.")
    upstream: str = Field(description="The provider's own model name.")
    api: str = Field("default", description="Which of the provider's APIs serves it.")
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    operations: list[Operation] = Field(default_factory=lambda: ["generate"])
    prompt_max_length: int | None = None
    sizes: SizeSpec | None = None
    default_size: str | None = None
    size_param: str | None = Field("size", description="Upstream name of the size; None: not sent.")
    aspect_ratios: list[str] | None = Field(None, description="For models that take aspect_ratio.")
    n_min: int = 1
    n_max: int = 1
    n_param: str | None = Field("n", description="Upstream count field; None: the gateway fans out.")
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    input_schema: dict[str, Any] | None = Field(
        None, description="A full JSON Schema the parameters must also satisfy (e.g. Replicate's)."
    )
    requirements: list[Requirement] = Field(default_factory=list)
    output_formats: list[str] = Field(default_factory=lambda: ["png"])
    format_param: str | None = Field(None, description="Parameter choosing the output format.")
    input_formats: list[str] = Field(default_factory=lambda: ["png", "jpeg", "webp"])
    max_input_images: int = 1
    max_input_mb: float = 50.0
    mask: bool = False
    markup: bool = Field(False, description="Edits take a markup image (never with a mask).")
    streaming: bool = Field(False, description="Can report partial images while generating.")
    pricing: Pricing = Field(default_factory=Pricing)
    options: dict[str, Any] = Field(default_factory=dict, description="Provider-specific extras.")
    status: Status = Field("active", description="active, deprecated (works, warns) or retired (refused).")
    shutdown_date: date | None = Field(None, description="When the upstream stops (or stopped) serving it.")
    replacement: str | None = Field(None, description="The model to use instead (a catalog id).")
    recommended: bool = Field(
        False, description="The provider's recommended current model: the default model when its key is set.")
    tool: ToolHint | None = Field(None, description="The MCP per-model tool this model appears in, if any.")

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        clash = _RESERVED & set(self.params)
        if clash:
            msg = f"model {self.id}: {sorted(clash)} are common fields, not model parameters"
            raise ValueError(msg)
        return self

    @property
    def qualified_id(self) -> str:
        return f"{self.provider}/{self.upstream}"

    def output_format(self, params: dict[str, Any]) -> str:
        """The output format a request asks for (or the model's default)."""
        if self.format_param and params.get(self.format_param):
            return str(params[self.format_param])
        if self.format_param and self.format_param in self.params:
            default = self.params[self.format_param].default
            if default:
                return str(default)
        return self.output_formats[0]

    def summary(self) -> dict[str, Any]:
        """The capabilities a front-end shows (``imagegate models``, ``/v1/models``, MCP)."""
        return {
            "id": self.id,
            "qualified_id": self.qualified_id,
            "provider": self.provider,
            "aliases": self.aliases,
            "description": self.description,
            "operations": list(self.operations),
            "sizes": self.sizes.describe() if self.sizes else None,
            "default_size": self.default_size,
            "aspect_ratios": self.aspect_ratios,
            "n": {"min": self.n_min, "max": self.n_max},
            "prompt_max_length": self.prompt_max_length,
            "output_formats": self.output_formats,
            "streaming": self.streaming,
            "price_source": self.pricing.source,
            "parameters": {name: p.json_schema() for name, p in self.params.items()},
            "status": self.status,
            "shutdown_date": self.shutdown_date.isoformat() if self.shutdown_date else None,
            "replacement": self.replacement,
        }

    def params_for(self, operation: Operation) -> dict[str, ParamSpec]:
        return {
            name: p for name, p in self.params.items() if p.operations is None or operation in p.operations
        }


class ValidRequest(BaseModel):
    """A request that passed :func:`validate_request`: safe to price and send."""

    operation: Operation
    prompt: str | None
    size: str | None
    n: int
    params: dict[str, Any]

    def effective(self, spec: ModelSpec) -> dict[str, Any]:
        """Parameters with the model's defaults filled in (for prices and metadata)."""
        values = {name: p.default for name, p in spec.params.items() if p.default is not None}
        values.update(self.params)
        values["size"] = self.size or spec.default_size
        values["n"] = self.n
        return values


def validate_request(
    spec: ModelSpec,
    operation: Operation,
    *,
    prompt: str | None,
    size: str | None,
    n: int | None,
    params: dict[str, Any],
    image_count: int = 0,
    has_mask: bool = False,
    has_markup: bool = False,
) -> ValidRequest:
    """Check a request against the model's declared capabilities; raise :class:`InvalidRequest`."""
    model = spec.id
    if operation not in spec.operations:
        msg = f"{model} does not support {operation}; it supports: {_fmt(spec.operations)}"
        raise InvalidRequest(msg, param="model")
    prompt = _check_prompt(spec, operation, prompt)
    if size is not None:
        if spec.sizes is None:
            hint = f" (use aspect_ratio: {_fmt(spec.aspect_ratios)})" if spec.aspect_ratios else ""
            msg = f"{model} takes no size{hint}"
            raise InvalidRequest(msg, param="size")
        if not spec.sizes.accepts(size):
            msg = f"size={_quote(size)} is not supported by {model}; allowed: {spec.sizes.describe()}"
            raise InvalidRequest(msg, param="size")
    count = 1 if n is None else n
    if isinstance(count, bool) or not isinstance(count, int) or not spec.n_min <= count <= spec.n_max:
        msg = f"n={_quote(count)} is out of range for {model}; allowed: {spec.n_min} to {spec.n_max}"
        raise InvalidRequest(msg, param="n")
    _check_images(spec, operation, image_count, has_mask)
    _check_markup(spec, operation, has_mask=has_mask, has_markup=has_markup)
    allowed = spec.params_for(operation)
    checked: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if name not in allowed:
            names = _fmt(sorted(allowed)) or "none"
            msg = f"{model} has no parameter {_quote(name)} for {operation}; its parameters: {names}"
            raise InvalidRequest(msg, param=name)
        checked[name] = allowed[name].check(name, value, model)
    _check_requirements(spec, checked, count)
    if spec.input_schema is not None:
        _check_schema(spec, checked)
    return ValidRequest(operation=operation, prompt=prompt, size=size, n=count, params=checked)


def _check_prompt(spec: ModelSpec, operation: Operation, prompt: str | None) -> str | None:
    if operation == "variation":
        if prompt:
            msg = f"{spec.id} variations take no prompt"
            raise InvalidRequest(msg, param="prompt")
        return None
    if prompt is None or not prompt.strip():
        msg = "prompt is empty; describe the image to make"
        raise InvalidRequest(msg, param="prompt")
    if spec.prompt_max_length is not None and len(prompt) > spec.prompt_max_length:
        msg = f"prompt is {len(prompt)} characters; {spec.id} takes at most {spec.prompt_max_length}"
        raise InvalidRequest(msg, param="prompt")
    return prompt


def _check_images(spec: ModelSpec, operation: Operation, image_count: int, has_mask: bool) -> None:
    if operation == "generate":
        if image_count or has_mask:
            msg = "generate takes no input images; use edit"
            raise InvalidRequest(msg, param="image")
        return
    if image_count < 1:
        msg = f"{operation} needs an input image"
        raise InvalidRequest(msg, param="image")
    limit = 1 if operation == "variation" else spec.max_input_images
    if image_count > limit:
        msg = f"{spec.id} takes at most {limit} input image(s) for {operation}; got {image_count}"
        raise InvalidRequest(msg, param="image")
    if has_mask and (operation != "edit" or not spec.mask):
        msg = f"{spec.id} takes no mask for {operation}"
        raise InvalidRequest(msg, param="mask")


def _check_markup(spec: ModelSpec, operation: Operation, *, has_mask: bool, has_markup: bool) -> None:
    if not has_markup:
        return
    if operation != "edit" or not spec.markup:
        msg = f"{spec.id} takes no markup for {operation}"
        raise InvalidRequest(msg, param="markup")
    if has_mask:
        msg = f"markup and mask cannot be combined; {spec.id} takes one or the other"
        raise InvalidRequest(msg, param="markup")


def _check_requirements(spec: ModelSpec, params: dict[str, Any], n: int = 1) -> None:
    """Cross-parameter rules; ``n`` counts as a parameter (e.g. SVG output needs n=1)."""
    effective = {name: p.default for name, p in spec.params.items()}
    effective.update(params)
    effective["n"] = n
    params = {**params, "n": n}
    for rule in spec.requirements:
        if not all(effective.get(k) in values for k, values in rule.when.items()):
            continue
        for name, values in rule.then.items():
            value = params.get(name)
            if value is None and None in values:
                continue
            if value is None or value not in values:
                condition = " and ".join(f"{k}={_fmt(v)}" for k, v in rule.when.items())
                allowed = _fmt([v for v in values if v is not None])
                given = "unset" if value is None else _quote(value)
                if not allowed:
                    msg = f"{name} is {given}; {spec.id} takes no {name} when {condition}"
                else:
                    msg = f"{name} is {given}; with {condition}, {spec.id} takes {name} {allowed}"
                    if None in values:
                        msg += " or none"
                raise InvalidRequest(msg, param=name)


def _check_schema(spec: ModelSpec, params: dict[str, Any]) -> None:
    from ._schema_errors import check_schema

    check_schema(spec.input_schema or {}, params, noun="parameter", owner=spec.id)
