"""The Replicate models imagegate knows by name, as catalog data.

Prices are Replicate's published per-output prices for these official models (USD).
``options["prefer_wait"]`` marks fast models that are created with ``Prefer: wait`` (sync mode);
the others are polled. ``options["version"]`` is set only for community models run by version.
"""

from __future__ import annotations

from imagegate.catalog import ModelSpec, ParamSpec, Pricing, PriceRule, Requirement, SizeSpec, ToolHint

__all__ = ["FLUX_ASPECT_RATIOS", "RECRAFT_SIZES", "builtin_models"]

FLUX_ASPECT_RATIOS = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]
PRO_ASPECT_RATIOS = ["1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3"]
RECRAFT_SIZES = [
    "1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024", "1024x1820",
    "1024x2048", "2048x1024", "1434x1024", "1024x1434", "1024x1280", "1280x1024", "1024x1707", "1707x1024",
]
RECRAFT_STYLES = ["any", "engraving", "line_art", "line_circuit", "linocut"]
RASTER_FORMATS = ["webp", "jpg", "png"]


def _seed() -> ParamSpec:
    return ParamSpec(type="integer", minimum=0, maximum=2**32 - 1,
                     description="Random seed; set it for reproducible generation.")


def _format() -> ParamSpec:
    return ParamSpec(enum=RASTER_FORMATS, default="webp", description="File format of the output images.")


def _quality() -> ParamSpec:
    return ParamSpec(type="integer", minimum=0, maximum=100, default=80,
                     description="Compression quality for jpg and webp (0-100); ignored for png.")


def flux_dev() -> ModelSpec:
    return ModelSpec(
        id="flux-dev",
        tool=ToolHint(name="generate-fluxdev", title="Generate with FLUX.1 [dev]", description="Generate with FLUX.1 [dev] on Replicate: fast and inexpensive, good photorealism and composition; a good default for everyday pictures."),
        provider="replicate",
        upstream="black-forest-labs/flux-dev",
        description="FLUX.1 [dev] by Black Forest Labs on Replicate: up to 4 images per call.",
        sizes=None,
        size_param=None,
        aspect_ratios=FLUX_ASPECT_RATIOS,
        n_min=1,
        n_max=4,
        n_param="num_outputs",
        params={
            "seed": _seed(),
            "go_fast": ParamSpec(type="boolean", default=True,
                                 description="Run faster with an fp8-quantised model."),
            "num_inference_steps": ParamSpec(type="integer", minimum=1, maximum=50, default=28,
                                             description="Denoising steps; fewer is faster, more is finer."),
            "guidance": ParamSpec(type="number", minimum=0, maximum=10, default=3,
                                  description="How closely the image follows the prompt."),
            "aspect_ratio": ParamSpec(enum=FLUX_ASPECT_RATIOS, default="1:1",
                                      description="Aspect ratio of the output."),
            "megapixels": ParamSpec(enum=["1", "0.25"], default="1",
                                    description="Approximate number of megapixels of the output."),
            "output_format": _format(),
            "output_quality": _quality(),
            "disable_safety_checker": ParamSpec(type="boolean", default=False,
                                                description="Turn off the safety checker."),
        },
        output_formats=RASTER_FORMATS,
        format_param="output_format",
        pricing=Pricing(per_image=[PriceRule(usd=0.025)]),
        options={"prefer_wait": 60},
    )


def flux_pro() -> ModelSpec:
    not_custom = {"aspect_ratio": PRO_ASPECT_RATIOS}
    side = "{} of the image when aspect_ratio=custom: 256 to 1440, a multiple of 32."
    return ModelSpec(
        id="flux-1.1-pro",
        tool=ToolHint(name="generate-fluxpro", title="Generate with FLUX 1.1 [pro]", description="Generate with FLUX 1.1 [pro] on Replicate: better image quality and prompt adherence than flux-dev, at a higher price per image."),
        provider="replicate",
        upstream="black-forest-labs/flux-1.1-pro",
        description="FLUX1.1 [pro] by Black Forest Labs on Replicate: one image per call.",
        sizes=None,
        size_param=None,
        aspect_ratios=[*PRO_ASPECT_RATIOS, "custom"],
        n_min=1,
        n_max=4,
        n_param=None,
        params={
            "seed": _seed(),
            "aspect_ratio": ParamSpec(enum=[*PRO_ASPECT_RATIOS, "custom"], default="1:1",
                                      description="Aspect ratio; custom uses width and height."),
            "width": ParamSpec(type="integer", minimum=256, maximum=1440, description=side.format("Width")),
            "height": ParamSpec(type="integer", minimum=256, maximum=1440, description=side.format("Height")),
            "output_format": _format(),
            "output_quality": _quality(),
            "safety_tolerance": ParamSpec(type="integer", minimum=1, maximum=6, default=2,
                                          description="1 is the strictest, 6 the most permissive."),
            "prompt_upsampling": ParamSpec(type="boolean", default=False,
                                           description="Let the model rewrite the prompt."),
        },
        requirements=[
            Requirement(when=not_custom, then={"width": [None]}),
            Requirement(when=not_custom, then={"height": [None]}),
        ],
        input_schema={
            "type": "object",
            "properties": {
                "width": {"type": "integer", "multipleOf": 32},
                "height": {"type": "integer", "multipleOf": 32},
            },
            "if": {"properties": {"aspect_ratio": {"const": "custom"}}, "required": ["aspect_ratio"]},
            "then": {"required": ["width", "height"]},
        },
        output_formats=RASTER_FORMATS,
        format_param="output_format",
        pricing=Pricing(per_image=[PriceRule(usd=0.04)]),
        options={"prefer_wait": None},
    )


def recraft_svg() -> ModelSpec:
    return ModelSpec(
        id="recraft-v3-svg",
        tool=ToolHint(name="generate-svg", title="Generate an SVG with Recraft V3", description="Generate a scalable vector graphic (SVG) with Recraft V3 SVG: logos, icons and flat illustrations that must scale cleanly. Returns an image/svg+xml resource."),
        provider="replicate",
        upstream="recraft-ai/recraft-v3-svg",
        description="Recraft V3 SVG on Replicate: vector logos, icons and illustrations as SVG.",
        sizes=SizeSpec(values=RECRAFT_SIZES),
        default_size="1024x1024",
        size_param="size",
        n_min=1,
        n_max=4,
        n_param=None,
        params={
            "style": ParamSpec(enum=RECRAFT_STYLES, default="any", description="Style of the vector image."),
        },
        output_formats=["svg"],
        pricing=Pricing(per_image=[PriceRule(usd=0.08)]),
        options={"prefer_wait": 60},
    )


def builtin_models() -> list[ModelSpec]:
    return [flux_dev(), flux_pro(), recraft_svg()]
