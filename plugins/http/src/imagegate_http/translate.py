"""OpenAI request fields -> the gateway's :class:`~imagegate._models.ImageRequest`.

``prompt``, ``model``, ``n``, ``size`` and ``stream`` are common fields; ``response_format`` is the
gateway's delivery choice and never forwarded; ``user`` and ``safety_identifier`` are passed on
only to models that declare them; ``webhook_url`` names where the job's end is POSTed. Every other
field (``quality``, ``output_format``, ``aspect_ratio``, ``seed``, ...) is a model parameter,
checked by the catalog, which names the allowed parameters when one is unknown.

For a model that takes ``aspect_ratio`` and no ``size`` (e.g. Flux on Replicate), OpenAI's
``size=WxH`` becomes the declared aspect ratio nearest to W:H (``1536x1024`` -> ``3:2``), unless
the request also names ``aspect_ratio``; ``size=auto`` means the model's default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from imagegate import ImageInput, ImageRequest, InvalidRequest

from .bodies import read_body
from .quoting import QUOTE_CHARS, quote

if TYPE_CHECKING:
    from aiohttp import web

    from imagegate import Gateway, ModelSpec

__all__ = ["Delivery", "nearest_aspect_ratio", "read_json", "to_image_request"]

ResponseFormat = Literal["b64_json", "url"]
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
_RATIO = re.compile(r"^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$")
_SOFT = ("user", "safety_identifier")
_COMMON = ("prompt", "model", "n", "size", "stream", "response_format", "grid", "cells", "webhook_url")


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the answer is delivered: inline base64 or a URL, JSON or server-sent events, and where
    the job's end is POSTed (``webhook_url``)."""

    response_format: ResponseFormat = "b64_json"
    stream: bool = False
    webhook_url: str | None = None


async def read_json(request: web.Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object; 400 for a wrong content type or malformed JSON, 413 over ``limit`` bytes."""
    if request.content_type != "application/json":
        shown = quote(request.content_type) if request.content_type else "nothing"
        msg = f"send Content-Type: application/json, not {shown}"
        raise InvalidRequest(msg)
    raw = await read_body(request, limit, "the JSON body", "GATEWAY__MAX_JSON_KB")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = f"the body is not valid JSON ({exc.msg} at position {exc.pos})"
        raise InvalidRequest(msg) from None
    if not isinstance(body, dict):
        msg = "the body must be a JSON object"
        raise InvalidRequest(msg)
    return body


def nearest_aspect_ratio(size: str, ratios: list[str]) -> str | None:
    """The ratio in ``ratios`` (``"W:H"`` strings) closest to ``size`` on a log scale."""
    match = _SIZE.match(size)
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        return None
    wanted = math.log(int(match[1]) / int(match[2]))
    best: tuple[float, str] | None = None
    for ratio in ratios:
        parts = _RATIO.match(ratio)
        if not parts or float(parts[1]) == 0 or float(parts[2]) == 0:
            continue
        distance = abs(math.log(float(parts[1]) / float(parts[2])) - wanted)
        if best is None or distance < best[0]:
            best = (distance, ratio)
    return best[1] if best else None


def _typed(body: dict[str, Any], name: str, kind: type | tuple[type, ...], label: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool:
        value = object()
    if not isinstance(value, kind):
        msg = f"{name} must be {label}"
        raise InvalidRequest(msg, param=name)
    return value


def _check_names(body: dict[str, Any]) -> None:
    """Refuse a field name longer than any parameter's (it is quoted only by a prefix)."""
    for name in body:
        if len(name) > QUOTE_CHARS:
            msg = f"no parameter is named {quote(name)}: names are at most {QUOTE_CHARS} characters"
            raise InvalidRequest(msg, param=name[:40])


def _from_form(fields: dict[str, str], spec: ModelSpec) -> dict[str, Any]:
    """Convert multipart text fields to the types the model declares."""
    out: dict[str, Any] = {}
    for name, text in fields.items():
        if name == "n":
            try:
                out[name] = int(text)
            except ValueError:
                msg = f"n={quote(text, 20)} is not an integer"
                raise InvalidRequest(msg, param="n") from None
        elif name == "stream":
            out[name] = text.strip().lower() in {"true", "1", "yes", "on"}
        elif name in spec.params:
            out[name] = spec.params[name].coerce(text)
        else:
            out[name] = text
    return out


async def to_image_request(gateway: Gateway, body: dict[str, Any], *, form: bool = False,
                           images: list[ImageInput] | None = None, mask: ImageInput | None = None,
                           markup: ImageInput | None = None) -> tuple[ImageRequest, Delivery]:
    """Translate an OpenAI body (JSON, or multipart text fields with ``form``) for the gateway."""
    _check_names(body)
    model = _typed(body, "model", str, "a string")
    spec = await gateway.resolve_model(model)
    if form:
        body = _from_form(body, spec)
    prompt = _typed(body, "prompt", str, "a string")
    n = _typed(body, "n", int, "an integer")
    size = _typed(body, "size", str, "a string like 1024x1024")
    stream = bool(_typed(body, "stream", bool, "true or false"))
    response_format = body.get("response_format") or "b64_json"
    if response_format not in ("b64_json", "url"):
        msg = f"response_format={quote(response_format)} is not supported; use b64_json or url"
        raise InvalidRequest(msg, param="response_format")
    params = {k: v for k, v in body.items() if k not in _COMMON and v is not None}
    for name in _SOFT:
        if name in params and name not in spec.params:
            del params[name]
    if size == "auto" and not (spec.sizes and spec.sizes.accepts("auto")):
        size = None
    if size is not None and spec.sizes is None and spec.aspect_ratios:
        if "aspect_ratio" not in params:
            ratio = nearest_aspect_ratio(size, spec.aspect_ratios)
            if ratio is None:
                ratios = ", ".join(spec.aspect_ratios)
                msg = f"size={quote(size)} is not WxH; {spec.id} takes aspect_ratio: {ratios}"
                raise InvalidRequest(msg, param="size")
            params["aspect_ratio"] = ratio
        size = None
    grid = _typed(body, "grid", str, "a string like 3x3")
    cells = _typed(body, "cells", list, "a list of strings, one per grid panel")
    request = ImageRequest(prompt=prompt, model=model, size=size, n=n, params=params,
                           images=images or [], mask=mask, markup=markup, stream=stream, grid=grid, cells=cells)
    webhook_url = _typed(body, "webhook_url", str, "an https URL")
    return request, Delivery(response_format=response_format, stream=stream, webhook_url=webhook_url)
