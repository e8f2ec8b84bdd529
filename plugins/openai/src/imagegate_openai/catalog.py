"""OpenAI's image models as declarative :class:`~imagegate._catalog.ModelSpec` data.

Everything the gateway checks before a call lives here: sizes, counts, prompt limits, each
parameter's allowed values, cross-parameter rules, input limits for edits, lifecycle and prices.
Facts follow the official SDK 3.54.0 (``openai/types/image_*_params.py``) as summarised in
``specs/2026/openai-images-2026.md``; a rule the SDK does not confirm for a model (marked
UNVERIFIED there) lets the value through rather than refusing it.

Current (2026-12-04): gpt-image-2, gpt-image-2.5-sunburst/-flare, gpt-image-2.6-sunburst/-flare
and their dated snapshots. Retired (kept with their old parameters so a request can be
translated): dall-e-2, dall-e-3, gpt-image-1, gpt-image-1-mini, gpt-image-1.5, chatgpt-image-latest.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from imagegate import ModelSpec, ParamSpec, PriceRule, PriceSource, Pricing, Requirement, SizeSpec, ToolHint

__all__ = [
    "FLEXIBLE_SIZES",
    "GPT_IMAGE_SIZES",
    "IMAGE_OUTPUT_TOKENS",
    "MAINLINE_MODELS",
    "PROVIDER",
    "RESPONSES_PREFIX",
    "TOKEN_PRICES",
    "TOOL",
    "TokenPrice",
    "builtin_models",
    "current_model",
    "dall_e_2",
    "dall_e_3",
    "gpt_image",
    "image_output_tokens",
    "responses_mainline",
    "responses_model",
]

PROVIDER = "openai"
RESPONSES_PREFIX = "responses/"
GPT_IMAGE_SIZES = ["1024x1024", "1536x1024", "1024x1536", "auto"]
FLEXIBLE_SIZES = SizeSpec(values=GPT_IMAGE_SIZES, multiple_of=16, max_aspect_ratio=3, max_side=3840,
                          max_pixels=3840 * 2160)
"""The SDK's rule: the standard sizes, or WxH with both sides divisible by 16, aspect ratio within
3:1 and at most 3840x2160 (above 2560x1440 is experimental). Stated for gpt-image-2 and 2.5;
applied to 2.6 too (UNVERIFIED there, so let through)."""


class TokenPrice(NamedTuple):
    """USD per million tokens, and whether OpenAI publishes the figure (``Pricing.source``)."""

    text_in: float
    image_in: float
    image_out: float
    source: PriceSource


TOKEN_PRICES: dict[str, TokenPrice] = {
    "gpt-image-2.6-sunburst": TokenPrice(5.0, 8.0, 30.0, "official"),
    "gpt-image-2.6-flare": TokenPrice(5.0, 8.0, 30.0, "unofficial"),
    "gpt-image-2.5-sunburst": TokenPrice(5.0, 8.0, 30.0, "unofficial"),
    "gpt-image-2.5-flare": TokenPrice(5.0, 8.0, 30.0, "unofficial"),
    "gpt-image-2": TokenPrice(5.0, 8.0, 30.0, "unofficial"),
    # retired; kept for what they used to cost
    "gpt-image-1": TokenPrice(5.0, 10.0, 40.0, "official"),
    "gpt-image-1-mini": TokenPrice(2.0, 2.5, 8.0, "official"),
    "gpt-image-1.5": TokenPrice(5.0, 8.0, 32.0, "unofficial"),
    "chatgpt-image-latest": TokenPrice(5.0, 8.0, 32.0, "unofficial"),
}
"""Prices per base model (a dated snapshot costs what its base model costs). ``unofficial``:
quoted by third parties only (see the spec's section 7); such models say so in their description
and their ``Pricing.source`` is ``unofficial``."""

IMAGE_OUTPUT_TOKENS: dict[str, dict[str, int]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
    "xhigh": {"1024x1024": 8320, "1024x1536": 12480, "1536x1024": 12416},
    "max": {"1024x1024": 16640, "1024x1536": 24960, "1536x1024": 24832},
}
"""Image tokens per image by quality and size (OpenAI's table for low/medium/high). xhigh and max
are unpublished: estimated as 2x and 4x high, so estimates err high rather than low."""

_AUTO_QUALITY = "high"
_AUTO_SIZE = "1024x1536"
"""``auto`` may pick any standard quality and size, so estimates assume the dearest."""

_INPUT_TOKENS_PER_IMAGE = 765
"""Typical tokens of a 1024x1024 input image (85 + 4 tiles x 170), for edit estimates."""

MAINLINE_MODELS = ("gpt-6.2-astra", "gpt-6-astra", "gpt-6.2-sol", "gpt-6.1-sol", "gpt-6-sol", "gpt-6.1-terra",
                   "gpt-6-luna", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4",
                   "gpt-5.4-mini", "gpt-5.2")
"""Today's (2026-12-04) mainline models for ``responses/<model>``: the SDK 3.54 ``ChatModel`` ids
its deprecation list does not name (``openai/types/shared/chat_model.py``), without dated
snapshots or pro variants. Each resolves on demand; other ids do too, described as unlisted."""

DEFAULT_MAINLINE = "gpt-5.5"
"""The one ``responses/`` model registered at start-up (every registered model is listed in full by
the MCP ``list_available_models`` answer, so the others resolve on demand), and the replacement
named for a shut-down mainline model."""

_MAINLINE_SHUTDOWN: dict[str, date] = {
    **dict.fromkeys(("gpt-5.4-nano", "gpt-5.1"), date(2027, 4, 1)),
    **dict.fromkeys(("gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini"), date(2027, 1, 14)),
    **dict.fromkeys(("gpt-5", "gpt-5-mini", "gpt-5-nano", "o3"), date(2026, 12, 11)),
    **dict.fromkeys(("gpt-4.1-nano", "o4-mini", "o3-mini", "o1"), date(2026, 10, 23)),
}
"""Announced shutdowns of mainline models (the SDK's ``ChatModel`` deprecation list)."""

_MAINLINE_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.4),
    "o3": (2.0, 8.0),
}
"""USD per million text tokens (in, out) of older mainline models (not in the vendored specs, so
unofficial). Today's models have no recorded price: their text tokens are left out of estimates."""

TOOL_DEFAULT_MODEL = "gpt-image-2.6-sunburst"
"""The image_generation tool's default ``model`` (tool_param.py ImageGeneration)."""

TOOL = ToolHint(
    name="generate-openai", title="Generate with OpenAI",
    description=("OpenAI GPT image: exact instructions, legible text, transparency, up to 3840x2160, GIF, SVG. "
                 "sunburst: best; flare: fast. Paid."),
    options=["quality", "background", "output_format"])

TOOL_MODELS = ("gpt-image-2.6-sunburst", "gpt-image-2.6-flare", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare")
"""The models of the ``generate-openai`` MCP tool: the newest two generations, no snapshots (every
model is still offered by generate_image); it keeps the default tool list under its 16 KB budget."""

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_SIZE = re.compile(r"^(\d+)x(\d+)$")


def _tokens_per_megapixel(quality: str) -> float:
    """The densest standard size of a quality, in image tokens per million pixels."""
    return max(tokens * 1e6 / (int(w) * int(h)) for size, tokens in IMAGE_OUTPUT_TOKENS[quality].items()
               for w, h in [size.split("x")])


def image_output_tokens(quality: str | None, size: str | None) -> int:
    """Typical image tokens of one image. ``auto`` (or unknown) quality or size counts as the
    dearest standard choice; a WxH outside the table scales the densest standard size's tokens
    by its pixel count (rounded up), so an estimate never undercounts."""
    key = quality if quality in IMAGE_OUTPUT_TOKENS else _AUTO_QUALITY
    by_size = IMAGE_OUTPUT_TOKENS[key]
    if size in by_size:
        return by_size[size]
    match = _SIZE.match(size or "")
    if match is None:
        return by_size[_AUTO_SIZE]
    return math.ceil(_tokens_per_megapixel(key) * int(match[1]) * int(match[2]) / 1e6)


def _output_token_rules(qualities: list[str]) -> list[PriceRule]:
    """Exact rules for the standard sizes, then one per quality scaling by pixel count."""
    rules = [PriceRule(match={"quality": quality, "size": size}, tokens=image_output_tokens(quality, size))
             for quality in qualities for size in GPT_IMAGE_SIZES]
    rules += [PriceRule(match={"quality": quality},
                        tokens_per_megapixel=_tokens_per_megapixel(quality if quality != "auto" else _AUTO_QUALITY))
              for quality in qualities]
    return rules


def _token_pricing(base: str, qualities: list[str]) -> Pricing:
    price = TOKEN_PRICES[base]
    return Pricing(text_input_per_mtok=price.text_in, image_input_per_mtok=price.image_in,
                   image_output_per_mtok=price.image_out, output_tokens=_output_token_rules(qualities),
                   input_tokens_per_image=_INPUT_TOKENS_PER_IMAGE, source=price.source)


def _quality(values: list[str]) -> ParamSpec:
    return ParamSpec(enum=["auto", *values], default="auto")


def _user() -> ParamSpec:
    return ParamSpec(max_length=256, description="End-user id OpenAI uses to detect abuse.")


def _partial_images() -> ParamSpec:
    return ParamSpec(type="integer", minimum=0, maximum=3,
                     description="Partial images reported while streaming (stream=true; default 2); 0 to 3.")


# current models ---------------------------------------------------------------------------------

_FORMATS = ["png", "jpeg", "webp", "gif", "svg"]
_SVG_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh", "max"]


def _current_params(qualities: list[str]) -> dict[str, ParamSpec]:
    """Parameters of the GPT image 2.x models, as ``ImageGenerateParams``/``ImageEditParams`` take them."""
    return {
        "quality": _quality(qualities),
        "complexity": ParamSpec(enum=["low", "medium", "high"],
                                description="Planning effort (not quality)."),
        "background": ParamSpec(enum=["transparent", "opaque", "auto"], default="auto",
                                description="transparent: png or webp only."),
        "moderation": ParamSpec(enum=["auto", "low"], default="auto", operations=["generate"],
                                description="Content moderation strictness."),
        "output_format": ParamSpec(enum=_FORMATS, default="png", description="svg: n=1."),
        "output_compression": ParamSpec(type="integer", minimum=0, maximum=100,
                                        description="Compression 0-100 %, jpeg and webp only."),
        "frame_count": ParamSpec(type="integer", minimum=2, maximum=16,
                                 description="gif only; default 9."),
        "frame_duration_ms": ParamSpec(type="integer", minimum=0, maximum=655350,
                                       description="gif only; default 200."),
        "partial_images": _partial_images(),
        "input_fidelity": ParamSpec(enum=["high", "low"], operations=["edit"],
                                    description="How closely to keep the input images' features (faces, logos)."),
        "svg_model": ParamSpec(max_length=128, description="svg only."),
        "svg_reasoning_effort": ParamSpec(enum=_SVG_EFFORTS,
                                          description="svg only."),
        "safety_identifier": ParamSpec(max_length=256, description="Hashed end-user id."),
        "user": ParamSpec(max_length=256, description="Deprecated safety_identifier."),
    }


_RASTER = ["png", "jpeg", "webp"]


def _current_requirements() -> list[Requirement]:
    return [
        Requirement(when={"background": ["transparent"]}, then={"output_format": ["png", "webp", None]}),
        Requirement(when={"output_format": ["png", "gif", "svg"]}, then={"output_compression": [None]}),
        Requirement(when={"output_format": [*_RASTER, "svg"]},
                    then={"frame_count": [None], "frame_duration_ms": [None]}),
        Requirement(when={"output_format": ["gif", "svg"]}, then={"partial_images": [None]}),
        Requirement(when={"output_format": [*_RASTER, "gif"]},
                    then={"svg_model": [None], "svg_reasoning_effort": [None]}),
        Requirement(when={"output_format": ["svg"]}, then={"n": [1]}),
    ]


class _Family(NamedTuple):
    qualities: list[str]
    input_fidelity: bool
    markup: bool


_FAMILIES: dict[str, _Family] = {
    "gpt-image-2": _Family(["low", "medium", "high"], input_fidelity=False, markup=False),
    "gpt-image-2.5": _Family(["low", "medium", "high", "xhigh", "max"], input_fidelity=True, markup=True),
    "gpt-image-2.6": _Family(["low", "medium", "high", "xhigh", "max"], input_fidelity=True, markup=True),
}
"""What differs between the 2.x families. gpt-image-2 stops at high and takes no input_fidelity
(the SDK says to omit it). 2.6's xhigh/max, input_fidelity and markup are UNVERIFIED: let through."""

CURRENT_MODELS: dict[str, tuple[str, str, str | None]] = {
    # id: (family, description, snapshot of)
    "gpt-image-2.6-sunburst": ("gpt-image-2.6", "GPT Image 2.6 Sunburst: OpenAI's best image model.", None),
    "gpt-image-2.6-flare": ("gpt-image-2.6", "GPT Image 2.6 Flare: faster and lighter than Sunburst.", None),
    "gpt-image-2.5-sunburst": ("gpt-image-2.5", "GPT Image 2.5 Sunburst: high quality, xhigh/max quality.", None),
    "gpt-image-2.5-sunburst-2026-09-08": ("gpt-image-2.5", "Snapshot of gpt-image-2.5-sunburst.",
                                          "gpt-image-2.5-sunburst"),
    "gpt-image-2.5-flare": ("gpt-image-2.5", "GPT Image 2.5 Flare: the faster 2.5 model.", None),
    "gpt-image-2.5-flare-2026-09-08": ("gpt-image-2.5", "Snapshot of gpt-image-2.5-flare.", "gpt-image-2.5-flare"),
    "gpt-image-2": ("gpt-image-2", "GPT Image 2: quality up to high; no input_fidelity or markup.", None),
    "gpt-image-2-2026-04-21": ("gpt-image-2", "Snapshot of gpt-image-2.", "gpt-image-2"),
}


def current_model(model_id: str) -> ModelSpec:
    """A current GPT image model (Images API: generate and edit; mask, markup where allowed)."""
    family_name, description, snapshot_of = CURRENT_MODELS[model_id]
    family = _FAMILIES[family_name]
    base = snapshot_of or model_id
    params = _current_params(family.qualities)
    if not family.input_fidelity:
        del params["input_fidelity"]
    if TOKEN_PRICES[base].source != "official":
        description += " Prices are unofficial (third-party figures)."
    return ModelSpec(
        id=model_id, provider=PROVIDER, upstream=model_id, api="images", description=description,
        operations=["generate", "edit"], prompt_max_length=32000, sizes=FLEXIBLE_SIZES, default_size="auto",
        n_min=1, n_max=10, params=params, requirements=_current_requirements(), output_formats=_FORMATS,
        format_param="output_format", input_formats=["png", "jpeg", "webp"], max_input_images=16,
        max_input_mb=50.0, mask=True, markup=family.markup, streaming=True, options={"family": "gpt-image"},
        pricing=_token_pricing(base, ["auto", *family.qualities]),
        recommended=model_id == TOOL_DEFAULT_MODEL,
        tool=TOOL.model_copy(update={"default": model_id == TOOL_DEFAULT_MODEL}) if model_id in TOOL_MODELS else None,
    )


# retired models ----------------------------------------------------------------------------------

_OLD_QUALITIES = ["high", "medium", "low"]


def _gpt_image_params(*, input_fidelity: list[str] | None, streaming: bool) -> dict[str, ParamSpec]:
    params = {
        "quality": _quality(_OLD_QUALITIES),
        "output_format": ParamSpec(enum=_RASTER, default="png", description="File format of the result."),
        "output_compression": ParamSpec(type="integer", minimum=0, maximum=100,
                                        description="Compression 0-100 %, jpeg and webp only."),
        "background": ParamSpec(enum=["transparent", "opaque", "auto"], default="auto",
                                description="transparent needs output_format png or webp."),
        "moderation": ParamSpec(enum=["auto", "low"], default="auto",
                                description="Content moderation strictness."),
        "user": _user(),
    }
    if input_fidelity:
        params["input_fidelity"] = ParamSpec(
            enum=input_fidelity, operations=["edit"],
            description="How closely to keep the input images' features (faces, logos).")
    if streaming:
        params["partial_images"] = _partial_images()
    return params


def _gpt_image_requirements() -> list[Requirement]:
    return [
        Requirement(when={"background": ["transparent"]}, then={"output_format": ["png", "webp", None]}),
        Requirement(when={"output_format": ["png"]}, then={"output_compression": [None]}),
    ]


def _retired(shutdown: date, replacement: str) -> dict[str, Any]:
    return {"status": "retired", "shutdown_date": shutdown, "replacement": replacement}


def gpt_image(model_id: str, *, input_fidelity: list[str] | None = None, description: str = "",
              **lifecycle: Any) -> ModelSpec:
    """A first-generation GPT image model (Images API: generate and edit); all are retired now."""
    return ModelSpec(
        id=model_id, provider=PROVIDER, upstream=model_id, api="images", description=description,
        operations=["generate", "edit"], prompt_max_length=32000, sizes=SizeSpec(values=GPT_IMAGE_SIZES),
        default_size="auto", n_min=1, n_max=10,
        params=_gpt_image_params(input_fidelity=input_fidelity, streaming=True),
        requirements=_gpt_image_requirements(), output_formats=_RASTER, format_param="output_format",
        input_formats=["png", "jpeg", "webp"], max_input_images=16, max_input_mb=50.0, mask=True,
        streaming=True, options={"family": "gpt-image"},
        pricing=_token_pricing(model_id, ["auto", *_OLD_QUALITIES]), **lifecycle,
    )


_DALL_E_RETIRED = _retired(date(2026, 5, 12), TOOL_DEFAULT_MODEL)


def dall_e_3() -> ModelSpec:
    """dall-e-3 (retired 2026-05-12): generate only, one image per request, per-image prices."""
    prices = {("standard", "1024x1024"): 0.04, ("standard", "1792x1024"): 0.08,
              ("standard", "1024x1792"): 0.08, ("hd", "1024x1024"): 0.08, ("hd", "1792x1024"): 0.12,
              ("hd", "1024x1792"): 0.12}
    return ModelSpec(
        id="dall-e-3", provider=PROVIDER, upstream="dall-e-3", api="images",
        description="DALL-E 3: one image per request; rewrites the prompt (revised_prompt). Retired.",
        operations=["generate"], prompt_max_length=4000,
        sizes=SizeSpec(values=["1024x1024", "1792x1024", "1024x1792"]), default_size="1024x1024",
        n_min=1, n_max=1,
        params={
            "quality": ParamSpec(enum=["standard", "hd"], default="standard",
                                 description="hd: finer detail, twice the price."),
            "style": ParamSpec(enum=["vivid", "natural"], default="vivid",
                               description="vivid: dramatic; natural: less hyper-real."),
            "user": _user(),
        },
        output_formats=["png"], options={"family": "dall-e"},
        pricing=Pricing(per_image=[PriceRule(match={"quality": q, "size": s}, usd=usd)
                                   for (q, s), usd in prices.items()], source="official"),
        **_DALL_E_RETIRED,
    )


def dall_e_2() -> ModelSpec:
    """dall-e-2 (retired 2026-05-12): generate, edit (square PNG, optional mask) and variation."""
    prices = {"256x256": 0.016, "512x512": 0.018, "1024x1024": 0.02}
    return ModelSpec(
        id="dall-e-2", provider=PROVIDER, upstream="dall-e-2", api="images",
        description="DALL-E 2: generate, edit with a mask, and variations; square sizes. Retired.",
        operations=["generate", "edit", "variation"], prompt_max_length=1000,
        sizes=SizeSpec(values=list(prices)), default_size="1024x1024", n_min=1, n_max=10,
        params={"user": _user()}, output_formats=["png"], input_formats=["png"], max_input_images=1,
        max_input_mb=4.0, mask=True, options={"family": "dall-e"},
        pricing=Pricing(per_image=[PriceRule(match={"size": s}, usd=usd) for s, usd in prices.items()],
                        source="official"),
        **_DALL_E_RETIRED,
    )


def retired_models() -> list[ModelSpec]:
    """The shut-down models: refused (or translated) by the gateway, never sent upstream."""
    dec_1 = _retired(date(2026, 12, 1), TOOL_DEFAULT_MODEL)
    return [
        gpt_image("gpt-image-1", input_fidelity=["high", "low"],
                  description="GPT Image 1: shut down 2026-10-23.",
                  **_retired(date(2026, 10, 23), "gpt-image-2.5-sunburst")),
        gpt_image("gpt-image-1-mini", input_fidelity=["low"], description="GPT Image 1 mini: shut down 2026-12-01.",
                  **dec_1),
        gpt_image("gpt-image-1.5", input_fidelity=["high", "low"],
                  description="GPT Image 1.5: shut down 2026-12-01.", **dec_1),
        gpt_image("chatgpt-image-latest", input_fidelity=["high", "low"],
                  description="ChatGPT's image model: shut down 2026-12-01.", **dec_1),
        dall_e_3(),
        dall_e_2(),
    ]


# Responses API -----------------------------------------------------------------------------------


def responses_mainline(model_id: str) -> str | None:
    """The mainline model named by ``responses/<model>`` (or ``openai/responses/<model>``)."""
    name = model_id.removeprefix(f"{PROVIDER}/")
    if not name.startswith(RESPONSES_PREFIX):
        return None
    mainline = name[len(RESPONSES_PREFIX):]
    return mainline if _MODEL_NAME.match(mainline) else None


_GPT_IMAGE_2 = [m for m, (family, _, _) in CURRENT_MODELS.items() if family == "gpt-image-2"]


def _responses_params() -> dict[str, ParamSpec]:
    """The image_generation tool's options (SDK ``tool_param.ImageGeneration``) as model parameters,
    plus ``user`` (the request's ``safety_identifier``)."""
    params = _current_params(_FAMILIES["gpt-image-2.6"].qualities)
    del params["safety_identifier"]
    params["moderation"] = params["moderation"].model_copy(update={"operations": None})
    params["user"] = ParamSpec(max_length=64, description="End-user id, sent as safety_identifier.")
    params["image_model"] = ParamSpec(enum=list(CURRENT_MODELS), default=TOOL_DEFAULT_MODEL,
                                      description="The image model the tool uses.")
    params["action"] = ParamSpec(enum=["generate", "edit", "auto"],
                                 description="generate: always create; edit: edit the input images; auto: "
                                             "the model decides. Default: edit for an edit, else auto.")
    return params


def _responses_requirements() -> list[Requirement]:
    """The Images API's rules (but n, which the gateway fans out), and gpt-image-2's limits."""
    return [
        *(r for r in _current_requirements() if "n" not in r.then),
        Requirement(when={"image_model": _GPT_IMAGE_2},
                    then={"quality": ["auto", *_FAMILIES["gpt-image-2"].qualities, None],
                          "input_fidelity": [None]}),
    ]


def _mainline_lifecycle(mainline: str) -> dict[str, Any]:
    shutdown = _MAINLINE_SHUTDOWN.get(mainline)
    if shutdown is None:
        return {}
    status = "retired" if shutdown <= datetime.now(UTC).date() else "deprecated"
    return {"status": status, "shutdown_date": shutdown, "replacement": f"{RESPONSES_PREFIX}{DEFAULT_MAINLINE}"}


def responses_model(mainline: str) -> ModelSpec:
    """``responses/<mainline>``: the Responses API with the image_generation tool forced.

    Generates, or edits the input images (sent as ``input_image`` content; a mask goes as the
    tool's ``input_image_mask``). The tool's ``model`` defaults to gpt-image-2.6-sunburst
    (``image_model`` picks another current model). Text tokens of the mainline model are priced
    when it is known; image tokens at the image model's rate (the Responses API reports only the
    mainline model's tokens, so image tokens are the typical count for the size and quality the
    tool reports it used). The prices are ``unofficial``: the mainline model's are not in the
    vendored specs (today's are not known at all) and the image tokens are typical counts.
    """
    text_in, text_out = _MAINLINE_PRICES.get(mainline, (None, None))
    image_price = TOKEN_PRICES[TOOL_DEFAULT_MODEL]
    description = f"{mainline} through the Responses API, forced to call the image_generation tool."
    if mainline not in MAINLINE_MODELS and mainline not in _MAINLINE_SHUTDOWN:
        description += " Not a current mainline model the SDK lists: OpenAI refuses it if it does not exist."
    return ModelSpec(
        id=f"{RESPONSES_PREFIX}{mainline}", provider=PROVIDER, upstream=f"{RESPONSES_PREFIX}{mainline}",
        api="responses", description=description,
        operations=["generate", "edit"], prompt_max_length=32000, sizes=FLEXIBLE_SIZES, default_size="auto",
        n_min=1, n_max=10, n_param=None, params=_responses_params(), requirements=_responses_requirements(),
        output_formats=_FORMATS, format_param="output_format", input_formats=["png", "jpeg", "webp"],
        max_input_images=16, max_input_mb=50.0, mask=True, streaming=True,
        pricing=Pricing(
            text_input_per_mtok=text_in, text_output_per_mtok=text_out,
            image_input_per_mtok=image_price.image_in, image_output_per_mtok=image_price.image_out,
            output_tokens=_output_token_rules(["auto", *_FAMILIES["gpt-image-2.6"].qualities]),
            input_tokens_per_image=_INPUT_TOKENS_PER_IMAGE, source="unofficial",
        ),
        options={"mainline_model": mainline}, **_mainline_lifecycle(mainline),
    )


def builtin_models() -> list[ModelSpec]:
    """The models registered at start-up (other ``responses/<model>`` ids resolve on demand)."""
    return [*(current_model(model_id) for model_id in CURRENT_MODELS), *retired_models(),
            responses_model(DEFAULT_MAINLINE)]
