"""The Gemini image models ("Nano Banana") as catalog data: what each takes, costs and when it ends.

Facts come from Google's pages and the google-genai 3.3.0 SDK where they exist. Where only third
parties speak (marked ``unverified`` below), lists are the widest documented for the family, so a
value the API may take is passed through rather than refused; the API's own 400 then names it.
Prices from third-party transcriptions are ``Pricing.source = "unofficial"`` (and said so in the
model's description); a model without a price is ``unknown``.
"""

from __future__ import annotations

from datetime import date

from imagegate import ModelSpec, ParamSpec, PriceRule, Pricing, Status, ToolHint

__all__ = ["ASPECT_RATIOS", "IMAGE_SIZES", "PROVIDER", "RESPONSE_MODALITIES", "WIDE_ASPECT_RATIOS",
           "builtin_models", "gemini_model"]

PROVIDER = "gemini"

ASPECT_RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
"""Every Gemini image model (gemini-2.5-flash-image onwards)."""
WIDE_ASPECT_RATIOS = [*ASPECT_RATIOS, "1:4", "4:1", "1:8", "8:1", "9:21"]
"""gemini-3.1-flash-image's 15 (Vertex AI model page); the pass-through list where unverified."""
IMAGE_SIZES = ["512", "1K", "2K", "4K"]
RESPONSE_MODALITIES = {"TEXT,IMAGE": ["TEXT", "IMAGE"], "IMAGE": ["IMAGE"]}

_MAX_INPUT_IMAGES = 14
_MAX_INPUT_MB = 7.0
_TOKENS_PER_INPUT_IMAGE = 1120
_FLASH_OUTPUT_TOKENS = {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520}
_PRO_OUTPUT_TOKENS = {"512": 1120, "1K": 1120, "2K": 1120, "4K": 2000}
_UNOFFICIAL = " Prices unofficial (third-party figures)."

TOOL = ToolHint(
    name="generate-gemini", title="Generate or edit with Google Gemini (Nano Banana)",
    description=("Google's Gemini image models: pick them to edit with several reference images "
                 "(up to 14), keep a subject consistent across images, render legible text, or use "
                 "wide or tall aspect ratios (up to 8:1) at 512 to 4K. The model may answer a note "
                 "beside the image (revised_prompt)."))


def _params(aspect_ratios: list[str], image_sizes: list[str] | None, verified: bool) -> dict[str, ParamSpec]:
    passthrough = "" if verified else " (unverified for this model: any value documented for Gemini passes)"
    params = {
        "aspect_ratio": ParamSpec(
            enum=aspect_ratios,
            description=f"Width:height (unset: 1:1, or the input image's shape when editing){passthrough}."),
        "response_modalities": ParamSpec(
            enum=list(RESPONSE_MODALITIES), default="TEXT,IMAGE",
            description="TEXT,IMAGE: the model may add a note (as revised_prompt); IMAGE: the image only."),
        "temperature": ParamSpec(type="number", minimum=0, maximum=2, description="Sampling temperature."),
        "top_p": ParamSpec(type="number", minimum=0, maximum=1, description="Nucleus sampling."),
        "seed": ParamSpec(type="integer", minimum=0, maximum=2**31 - 1,
                          description="Makes answers repeatable as far as the model allows."),
    }
    if image_sizes:
        params["image_size"] = ParamSpec(enum=image_sizes, default="1K",
                                         description=f"Resolution tier (uppercase K){passthrough}.")
    return params


def _pricing(*, image_out: float | None, text_in: float | None, text_out: float | None,
             output_tokens: dict[str, int], official: bool) -> Pricing:
    if image_out is None:
        return Pricing()
    return Pricing(source="official" if official else "unofficial",
                   text_input_per_mtok=text_in, image_input_per_mtok=text_in, text_output_per_mtok=text_out,
                   image_output_per_mtok=image_out, input_tokens_per_image=_TOKENS_PER_INPUT_IMAGE,
                   output_tokens=[*(PriceRule(match={"image_size": size}, tokens=tokens)
                                    for size, tokens in output_tokens.items()),
                                  PriceRule(tokens=_FLASH_OUTPUT_TOKENS["1K"])])


def gemini_model(model_id: str, *, description: str, aspect_ratios: list[str] = WIDE_ASPECT_RATIOS,
                 image_sizes: list[str] | None = IMAGE_SIZES, verified: bool = True,
                 image_out: float | None = None, text_in: float | None = None, text_out: float | None = None,
                 output_tokens: dict[str, int] = _FLASH_OUTPUT_TOKENS, official_prices: bool = False,
                 status: Status = "active", shutdown: date | None = None, replacement: str | None = None,
                 recommended: bool = False) -> ModelSpec:
    """A Gemini image model served by ``generateContent``: generate, and edit with reference images.

    The API has no count field for image models that is documented, so ``n`` fans out (one call
    per image); a config override may set ``n_param = "candidateCount"`` for a model that takes it.
    """
    priced = image_out is not None and not official_prices
    return ModelSpec(
        id=model_id, provider=PROVIDER, upstream=model_id, api="generateContent",
        description=description + (_UNOFFICIAL if priced else ""),
        operations=["generate", "edit"],
        sizes=None, size_param=None, aspect_ratios=aspect_ratios,
        n_min=1, n_max=4, n_param=None,
        params=_params(aspect_ratios, image_sizes, verified),
        output_formats=["png", "jpeg", "webp"],
        input_formats=["png", "jpeg", "webp"], max_input_images=_MAX_INPUT_IMAGES, max_input_mb=_MAX_INPUT_MB,
        pricing=_pricing(image_out=image_out, text_in=text_in, text_out=text_out,
                         output_tokens=output_tokens, official=official_prices),
        options={"verified_limits": verified},
        status=status, shutdown_date=shutdown, replacement=replacement, recommended=recommended,
        tool=None if status == "retired" else TOOL.model_copy(update={"default": recommended}),
    )


def builtin_models() -> list[ModelSpec]:
    """Today's models first; retired ids stay listed so callers learn their replacement."""
    return [
        gemini_model("gemini-nano-banana-2.1", verified=False, recommended=True,
                     image_out=30.0, text_in=1.5, text_out=7.5,
                     description="Nano Banana 2.1: Google's current default image model; fast and cheap."),
        gemini_model("gemini-3-pro-image", verified=False, image_out=120.0,
                     output_tokens=_PRO_OUTPUT_TOKENS, official_prices=True,
                     description="Nano Banana Pro: the most capable Gemini image model (text rendering, "
                                 "complex edits), at the highest price."),
        gemini_model("gemini-3.1-flash-lite-image", verified=False,
                     description="Nano Banana 2 Lite: the lightest Gemini image model (no published price)."),
        gemini_model("gemini-3.1-flash-image", image_out=60.0, text_in=0.5, text_out=3.0,
                     status="deprecated", shutdown=date(2026, 10, 29), replacement="gemini-nano-banana-2.1",
                     description="Nano Banana 2; reported shut down on 2026-10-29 (unconfirmed by Google)."),
        gemini_model("gemini-3.1-flash-image-preview", image_out=60.0, text_in=0.5, text_out=3.0,
                     status="retired", shutdown=date(2026, 6, 25), replacement="gemini-3.1-flash-image",
                     description="Preview of Nano Banana 2; shut down 2026-06-25."),
        gemini_model("gemini-3-pro-image-preview", verified=False, image_out=120.0,
                     output_tokens=_PRO_OUTPUT_TOKENS, official_prices=True,
                     status="retired", shutdown=date(2026, 6, 25), replacement="gemini-3-pro-image",
                     description="Preview of Nano Banana Pro; shut down 2026-06-25."),
        gemini_model("gemini-2.5-flash-image", aspect_ratios=ASPECT_RATIOS, image_sizes=None,
                     status="retired", shutdown=date(2026, 10, 2), replacement="gemini-nano-banana-2.1",
                     description="The first Nano Banana (1024 px); shut down 2026-10-02."),
    ]
