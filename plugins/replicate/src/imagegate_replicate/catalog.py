"""The Replicate models imagegate knows by name, as catalog data.

FLUX.1 and Recraft prices are Replicate's published per-output prices (USD). The FLUX.2 entries
are built from their shipped input schemas (:mod:`imagegate_replicate.flux2_schemas`); Replicate's
FLUX.2 prices could not be verified, so theirs are third-party estimates, marked
``Pricing.source = "unofficial"`` (``unknown`` where there is none) and said so in each description.
``options["prefer_wait"]`` marks models that are created with ``Prefer: wait`` (sync mode);
the others are polled. ``options["version"]`` is set only for community models run by version.
"""

from __future__ import annotations

from imagegate import ModelSpec, ParamSpec, Pricing, PriceRule, Requirement, SizeSpec, ToolHint

from .flux2_schemas import as_openapi, flux2_input_schemas
from .schema import spec_from_schema

__all__ = ["FLUX2_MODELS", "FLUX_ASPECT_RATIOS", "RECRAFT_SIZES", "builtin_models", "flux2_model"]

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
        pricing=Pricing(per_image=[PriceRule(usd=0.025)], source="official"),
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
        pricing=Pricing(per_image=[PriceRule(usd=0.04)], source="official"),
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
        pricing=Pricing(per_image=[PriceRule(usd=0.08)], source="official"),
        options={"prefer_wait": 60},
    )


FLUX2_TOOL = ToolHint(
    name="generate-flux2",
    title="Generate with FLUX.2",
    description=(
        "Generate with FLUX.2 by Black Forest Labs on Replicate, the current FLUX family: pick it over "
        "generate-fluxdev and generate-fluxpro for new work. flux-2-pro: high quality, the usual choice; "
        "flux-2-max: the highest fidelity, dearer; flux-2-flex: control over steps and guidance, strong "
        "typography; flux-2-dev: open weights; flux-2-klein-4b and flux-2-klein-9b-base: fast, cheap "
        "drafts. Takes aspect_ratio (and resolution) instead of size; the edit tools take reference images."),
)
_UNOFFICIAL = (" Price: an unofficial estimate (Replicate's FLUX.2 price could not be verified;"
               " reference images are billed on top).")
_NO_PRICE = " Price: unknown (Replicate's FLUX.2 price could not be verified)."
_PRO_PER_RESOLUTION = [  # third-party per-megapixel table ($0.02 per output MP), 2026-12-04
    PriceRule(match={"resolution": "0.5 MP"}, usd=0.01),
    PriceRule(match={"resolution": "1 MP"}, usd=0.02),
    PriceRule(match={"resolution": "2 MP"}, usd=0.04),
    PriceRule(match={"resolution": "4 MP"}, usd=0.08),
    PriceRule(usd=0.02),
]

_BFL = "black-forest-labs/"
FLUX2_MODELS: dict[str, tuple[str, str, list[PriceRule]]] = {
    # short id: (upstream, description, third-party prices of 2026-12-04)
    "flux-2-pro": (
        _BFL + "flux-2-pro",
        "FLUX.2 [pro] on Replicate: high-quality generation, and edits with up to 8 reference images.",
        _PRO_PER_RESOLUTION),
    "flux-2-max": (
        _BFL + "flux-2-max",
        "FLUX.2 [max] on Replicate: the highest fidelity FLUX.2, edits with up to 8 reference images.",
        [PriceRule(usd=0.07)]),  # "from $0.07 per image" at BFL
    "flux-2-flex": (
        _BFL + "flux-2-flex",
        "FLUX.2 [flex] on Replicate: adjustable steps and guidance, up to 10 reference images.",
        [PriceRule(usd=0.05)]),  # "from $0.05" at BFL
    "flux-2-dev": (
        _BFL + "flux-2-dev",
        "FLUX.2 [dev] on Replicate: open-weights FLUX.2 with reference images (schema from a third party).",
        []),
    "flux-2-klein-4b": (
        _BFL + "flux-2-klein-4b",
        "FLUX.2 [klein] 4B on Replicate: fast and cheap, up to 5 reference images.",
        [PriceRule(usd=0.001)]),  # "per-image pricing starting at $0.001 through Replicate"
    "flux-2-klein-9b-base": (
        _BFL + "flux-2-klein-9b-base",
        "FLUX.2 [klein] 9B base on Replicate: undistilled, with guidance; up to 5 reference images.",
        []),
}


def flux2_model(model_id: str) -> ModelSpec:
    """A FLUX.2 catalog entry: its parameters, image input and limits from its input schema."""
    upstream, description, prices = FLUX2_MODELS[model_id]
    spec = spec_from_schema(upstream, as_openapi(flux2_input_schemas()[upstream]), version=None)
    params = spec.params
    requirements = []
    aspect = params.get("aspect_ratio")
    if aspect and aspect.enum and "custom" in aspect.enum:  # width/height only count with custom
        not_custom = {"aspect_ratio": [v for v in aspect.enum if v != "custom"]}
        requirements = [Requirement(when=not_custom, then={side: [None]})
                        for side in ("width", "height") if side in params]
    formats = spec.output_formats
    if spec.format_param is None and "output_format" in params:  # values unpublished: the usual three
        first = params["output_format"].default or RASTER_FORMATS[0]
        formats = [first, *(f for f in RASTER_FORMATS if f != first)]
        params = {**params, "output_format": params["output_format"].model_copy(update={"enum": formats})}
    return spec.model_copy(update={
        "id": model_id,
        "params": params,
        "output_formats": formats,
        "format_param": "output_format" if "output_format" in params else None,
        "description": description + (_UNOFFICIAL if prices else _NO_PRICE),
        "requirements": requirements,
        "pricing": Pricing(per_image=prices, source="unofficial" if prices else "unknown"),
        "recommended": model_id == "flux-2-pro",
        "tool": FLUX2_TOOL.model_copy(update={"default": model_id == "flux-2-pro"}),
        "options": {**spec.options, "prefer_wait": 60},
    })


def builtin_models() -> list[ModelSpec]:
    return [flux_dev(), flux_pro(), recraft_svg(), *(flux2_model(model_id) for model_id in FLUX2_MODELS)]
