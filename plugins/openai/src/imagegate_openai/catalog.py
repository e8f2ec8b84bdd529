"""OpenAI's image models as declarative :class:`~imagegate.catalog.ModelSpec` data.

Everything the gateway checks before a call lives here: sizes, counts, prompt limits, each
parameter's allowed values, cross-parameter rules, input limits for edits, and prices. Values
follow OpenAI's API reference (``specs/openai.images-responses.openapi.json``) and price list:
GPT image models bill tokens (text in, image in, image out), dall-e models bill per image.
"""

from __future__ import annotations

import re

from imagegate.catalog import ModelSpec, ParamSpec, Pricing, PriceRule, Requirement, SizeSpec, ToolHint

__all__ = [
    "GPT_IMAGE_SIZES",
    "IMAGE_OUTPUT_TOKENS",
    "PROVIDER",
    "RESPONSES_PREFIX",
    "builtin_models",
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

IMAGE_OUTPUT_TOKENS: dict[str, dict[str, int]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
"""Image tokens a GPT image model produces per image, by quality and size (OpenAI's table)."""

_AUTO_QUALITY = "high"
_AUTO_SIZE = "1024x1536"
"""``auto`` may pick any quality and size, so estimates assume the dearest (never an undercount)."""

_INPUT_TOKENS_PER_IMAGE = 765
"""Typical tokens of a 1024x1024 input image (85 + 4 tiles x 170), for edit estimates."""

_MAINLINE_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1-nano": (0.1, 0.4),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.4),
    "o3": (2.0, 8.0),
}
"""USD per million text tokens (in, out) of Responses-API models that can call the image tool."""

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def image_output_tokens(quality: str | None, size: str | None) -> int:
    """Typical image tokens for one image; ``auto`` (or unknown) counts as the dearest choice."""
    by_size = IMAGE_OUTPUT_TOKENS.get(quality or _AUTO_QUALITY, IMAGE_OUTPUT_TOKENS[_AUTO_QUALITY])
    return by_size.get(size or _AUTO_SIZE, by_size[_AUTO_SIZE])


def _output_token_rules() -> list[PriceRule]:
    return [
        PriceRule(match={"quality": quality, "size": size}, tokens=image_output_tokens(quality, size))
        for quality in ("low", "medium", "high", "auto")
        for size in GPT_IMAGE_SIZES
    ]


def _gpt_image_params(*, input_fidelity: bool, streaming: bool) -> dict[str, ParamSpec]:
    params = {
        "quality": ParamSpec(enum=["auto", "high", "medium", "low"], default="auto",
                             description="Rendering quality; more tokens for higher quality."),
        "output_format": ParamSpec(enum=["png", "jpeg", "webp"], default="png",
                                   description="File format of the result."),
        "output_compression": ParamSpec(type="integer", minimum=0, maximum=100,
                                        description="Compression 0-100 %, jpeg and webp only."),
        "background": ParamSpec(enum=["transparent", "opaque", "auto"], default="auto",
                                description="transparent needs output_format png or webp."),
        "moderation": ParamSpec(enum=["auto", "low"], default="auto",
                                description="Content moderation strictness."),
        "user": ParamSpec(max_length=256, description="End-user id OpenAI uses to detect abuse."),
    }
    if input_fidelity:
        params["input_fidelity"] = ParamSpec(
            enum=["high", "low"], operations=["edit"],
            description="How closely to keep the input images' features (faces, logos).")
    if streaming:
        params["partial_images"] = ParamSpec(
            type="integer", minimum=0, maximum=3,
            description="Partial images reported while streaming (stream=true; default 2); 0 to 3.")
    return params


def _gpt_image_requirements() -> list[Requirement]:
    return [
        Requirement(when={"background": ["transparent"]}, then={"output_format": ["png", "webp", None]}),
        Requirement(when={"output_format": ["png"]}, then={"output_compression": [None]}),
    ]


def gpt_image(model_id: str, *, text_in: float, image_in: float, image_out: float,
              input_fidelity: bool = True, description: str = "") -> ModelSpec:
    """A GPT image model served by the Images API (generate and edit)."""
    return ModelSpec(
        id=model_id,
        provider=PROVIDER,
        upstream=model_id,
        api="images",
        description=description,
        operations=["generate", "edit"],
        prompt_max_length=32000,
        sizes=SizeSpec(values=GPT_IMAGE_SIZES),
        default_size="auto",
        n_min=1,
        n_max=10,
        params=_gpt_image_params(input_fidelity=input_fidelity, streaming=True),
        requirements=_gpt_image_requirements(),
        output_formats=["png", "jpeg", "webp"],
        format_param="output_format",
        input_formats=["png", "jpeg", "webp"],
        max_input_images=16,
        max_input_mb=50.0,
        mask=True,
        streaming=True,
        options={"family": "gpt-image"},
        pricing=Pricing(
            text_input_per_mtok=text_in,
            image_input_per_mtok=image_in,
            image_output_per_mtok=image_out,
            output_tokens=_output_token_rules(),
            input_tokens_per_image=_INPUT_TOKENS_PER_IMAGE,
        ),
    )


def dall_e_3() -> ModelSpec:
    """dall-e-3: generate only, one image per request, per-image prices."""
    prices = {("standard", "1024x1024"): 0.04, ("standard", "1792x1024"): 0.08,
              ("standard", "1024x1792"): 0.08, ("hd", "1024x1024"): 0.08, ("hd", "1792x1024"): 0.12,
              ("hd", "1024x1792"): 0.12}
    return ModelSpec(
        id="dall-e-3",
        provider=PROVIDER,
        upstream="dall-e-3",
        api="images",
        description="DALL-E 3: one image per request; rewrites the prompt (revised_prompt).",
        operations=["generate"],
        prompt_max_length=4000,
        sizes=SizeSpec(values=["1024x1024", "1792x1024", "1024x1792"]),
        default_size="1024x1024",
        n_min=1,
        n_max=1,
        params={
            "quality": ParamSpec(enum=["standard", "hd"], default="standard",
                                 description="hd: finer detail, twice the price."),
            "style": ParamSpec(enum=["vivid", "natural"], default="vivid",
                               description="vivid: dramatic; natural: less hyper-real."),
            "user": ParamSpec(max_length=256, description="End-user id OpenAI uses to detect abuse."),
        },
        output_formats=["png"],
        options={"family": "dall-e"},
        pricing=Pricing(per_image=[PriceRule(match={"quality": q, "size": s}, usd=usd)
                                   for (q, s), usd in prices.items()]),
    )


def dall_e_2() -> ModelSpec:
    """dall-e-2: generate, edit (one square PNG under 4 MB, optional mask) and variation."""
    prices = {"256x256": 0.016, "512x512": 0.018, "1024x1024": 0.02}
    return ModelSpec(
        id="dall-e-2",
        provider=PROVIDER,
        upstream="dall-e-2",
        api="images",
        description="DALL-E 2: generate, edit with a mask, and variations; square sizes.",
        operations=["generate", "edit", "variation"],
        prompt_max_length=1000,
        sizes=SizeSpec(values=list(prices)),
        default_size="1024x1024",
        n_min=1,
        n_max=10,
        params={"user": ParamSpec(max_length=256, description="End-user id OpenAI uses to detect abuse.")},
        output_formats=["png"],
        input_formats=["png"],
        max_input_images=1,
        max_input_mb=4.0,
        mask=True,
        options={"family": "dall-e"},
        pricing=Pricing(per_image=[PriceRule(match={"size": s}, usd=usd) for s, usd in prices.items()]),
    )


def responses_mainline(model_id: str) -> str | None:
    """The mainline model named by ``responses/<model>`` (or ``openai/responses/<model>``)."""
    name = model_id.removeprefix(f"{PROVIDER}/")
    if not name.startswith(RESPONSES_PREFIX):
        return None
    mainline = name[len(RESPONSES_PREFIX):]
    return mainline if _MODEL_NAME.match(mainline) else None


def responses_model(mainline: str) -> ModelSpec:
    """``responses/<mainline>``: the Responses API with the image_generation tool forced.

    Text tokens of the mainline model are priced when it is known; image tokens at gpt-image-1's
    rate (the Responses API reports only the mainline model's tokens, so image tokens are the
    typical count for the size and quality the tool reports it used).
    """
    text_in, text_out = _MAINLINE_PRICES.get(mainline, (None, None))
    params = _gpt_image_params(input_fidelity=False, streaming=False)
    params["user"] = ParamSpec(max_length=64, description="End-user id, sent as safety_identifier.")
    return ModelSpec(
        id=f"{RESPONSES_PREFIX}{mainline}",
        provider=PROVIDER,
        upstream=f"{RESPONSES_PREFIX}{mainline}",
        api="responses",
        description=f"{mainline} through the Responses API, forced to call the image_generation tool.",
        operations=["generate"],
        prompt_max_length=32000,
        sizes=SizeSpec(values=GPT_IMAGE_SIZES),
        default_size="auto",
        n_min=1,
        n_max=10,
        n_param=None,
        params=params,
        requirements=_gpt_image_requirements(),
        output_formats=["png", "jpeg", "webp"],
        format_param="output_format",
        pricing=Pricing(
            text_input_per_mtok=text_in,
            text_output_per_mtok=text_out,
            image_output_per_mtok=40.0,
            output_tokens=_output_token_rules(),
        ),
        options={"mainline_model": mainline},
    )


def builtin_models() -> list[ModelSpec]:
    """The models registered at start-up (other ``responses/<model>`` ids resolve on demand)."""
    return [
        gpt_image("gpt-image-1", text_in=5.0, image_in=10.0, image_out=40.0,
                  description="GPT Image 1: generate and edit (up to 16 images, mask), token-billed.",
                  ).model_copy(update={"tool": ToolHint(name="generate-openai", title="Generate with OpenAI", default=True, description="Generate with OpenAI image models: best at following detailed instructions, legible text in images and transparent backgrounds. Paid per image.")}),
        gpt_image("gpt-image-1-mini", text_in=2.0, image_in=2.5, image_out=8.0, input_fidelity=False,
                  description="GPT Image 1 mini: the cheaper GPT image model; no input_fidelity."),
        dall_e_3(),
        dall_e_2(),
        responses_model("gpt-4.1-mini"),
    ]
