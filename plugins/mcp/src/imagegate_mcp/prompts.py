"""MCP prompts for the common jobs: a logo, an SVG icon, a product shot, a portrait, a grid of avatars.

Desktop hosts show prompts in menus; each takes typed arguments and returns one user message
telling the assistant which tool to call, with which model and arguments. Models are never named
here: they are chosen from the catalog the providers registered, among the offered models (see
``tools.offered_models``): the gateway's default model, or for the SVG icon a model whose
``output_formats`` include ``svg``. A prompt whose model is missing is not listed; the offline
``placeholder`` model serves them all. The suggested arguments are checked against the chosen
model's catalog entry, so a prompt never suggests a call the gateway would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from imagegate import Gateway, ModelSpec
    from mcp_types import GetPromptResult, Prompt

    from .settings import MCPSettings

__all__ = ["ARGUMENT_MAX", "PROMPTS", "available_prompts", "render_prompt"]

ARGUMENT_MAX = 500
"""Longest argument value a prompt takes, in characters."""

Shape = Literal["square", "landscape", "portrait"]
_SIZES: dict[Shape, tuple[list[str], str]] = {
    "square": (["1024x1024", "1:1"], "1:1"),
    "landscape": (["1536x1024", "1792x1024", "1344x896", "3:2"], "3:2"),
    "portrait": (["1024x1536", "1024x1792", "896x1344", "2:3"], "2:3"),
}
"""Per shape: the sizes tried in order, and the aspect ratio for models that take one instead."""


@dataclass(frozen=True, slots=True)
class Argument:
    name: str
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class PromptSpec:
    """One prompt: its arguments, the picture it asks for, and which model can make it."""

    name: str
    title: str
    description: str
    arguments: tuple[Argument, ...]
    picture: Callable[[dict[str, str]], str]
    shape: Shape
    vector: bool = False
    """Needs a model that outputs SVG."""
    extras: tuple[tuple[str, Any], ...] = ()
    """Model options suggested when the chosen model takes them (e.g. a transparent background)."""


def _with(prefix: str, value: str | None) -> str:
    return f"{prefix}{value}" if value else ""


STYLE = Argument("style", "Visual style, e.g. minimal, playful, watercolor, corporate.")
COLORS = Argument("colors", "Colors to use, e.g. 'navy and gold'.")

PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(
        "logo", "Logo", "A logo for a brand or product, on a transparent background where the model allows.",
        (Argument("name", "The brand or product name the logo shows.", required=True),
         Argument("industry", "What the brand does, e.g. 'coffee roaster'."), STYLE, COLORS),
        lambda a: (f"A clean, professional logo for \"{a['name']}\"{_with(', a ', a.get('industry'))}"
                   f"{_with(', ', a.get('style'))}{_with(', in ', a.get('colors'))}. "
                   "A simple, memorable mark with the name in clear lettering, flat shapes, centered on a "
                   "plain background; no mockup, no extra text."),
        "square", extras=(("background", "transparent"),)),
    PromptSpec(
        "icon", "Icon (SVG)", "A scalable SVG icon, with a model that outputs SVG.",
        (Argument("subject", "What the icon shows, e.g. 'a paper plane'.", required=True), STYLE, COLORS),
        lambda a: (f"A simple flat icon of {a['subject']}{_with(', ', a.get('style'))}"
                   f"{_with(', in ', a.get('colors'))}. Bold geometric shapes, few details, readable at "
                   "32 pixels, centered, no text."),
        "square", vector=True, extras=(("background", "transparent"),)),
    PromptSpec(
        "product_shot", "Product shot", "A studio photograph of a product for a shop or catalog.",
        (Argument("product", "The product, e.g. 'a matte black water bottle'.", required=True),
         Argument("setting", "Background or scene, e.g. 'white seamless studio backdrop'."), STYLE),
        lambda a: (f"A professional product photograph of {a['product']}, "
                   f"{a.get('setting') or 'on a clean white studio backdrop'}{_with(', ', a.get('style'))}. "
                   "Soft studio lighting with gentle shadows, sharp focus, true colors, catalog quality."),
        "landscape"),
    PromptSpec(
        "portrait", "Portrait", "A head-and-shoulders portrait of a person or character.",
        (Argument("subject", "Who, e.g. 'an elderly fisherman with a grey beard'.", required=True), STYLE,
         Argument("background", "What is behind them, e.g. 'a blurred harbor'.")),
        lambda a: (f"A portrait of {a['subject']}{_with(', ', a.get('style'))}: head and shoulders, "
                   f"natural light, shallow depth of field, {a.get('background') or 'a softly blurred'} "
                   "background."),
        "portrait"),
    PromptSpec(
        "avatar_grid", "Grid of avatars", "Nine avatar portraits in one image, as a 3x3 grid.",
        (Argument("theme", "Who the avatars are, e.g. 'a diverse software team'.", required=True), STYLE,
         Argument("background", "Background of every cell, e.g. 'pastel colors'.")),
        lambda a: (f"One square image with a 3x3 grid of nine avatar portraits of {a['theme']}"
                   f"{_with(', ', a.get('style'))}: nine different people, each head and shoulders, facing "
                   f"the viewer, same framing and lighting in every cell, "
                   f"{a.get('background') or 'a plain'} background, even gutters between the cells, no text."),
        "square"),
)


def _model_for(spec: PromptSpec, offered: list[ModelSpec], default_model: str) -> ModelSpec | None:
    """The model a prompt suggests: for SVG, a model outputting only SVG first, else any taking
    SVG; otherwise the gateway's default model if offered, else the first recommended, else the first."""
    generators = [model for model in offered if "generate" in model.operations]
    if spec.vector:
        vector = [model for model in generators if "svg" in model.output_formats]
        dedicated = [model for model in vector if model.output_format({}) == "svg"]
        return (dedicated or vector or [None])[0]
    named = [model for model in generators if default_model in (model.id, model.qualified_id, *model.aliases)]
    return (named or [model for model in generators if model.recommended] or generators or [None])[0]


def _shape_of(size: str) -> Shape | None:
    """The shape of a ``WxH`` size (None for a size name such as ``auto``)."""
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return None
    return "square" if width == height else "landscape" if int(width) > int(height) else "portrait"


def _shape_arguments(model: ModelSpec, shape: Shape) -> tuple[str | None, dict[str, Any]]:
    """The size (or aspect ratio option) giving the shape, when the model takes one: a usual size,
    else the first size of that shape the model lists."""
    sizes, ratio = _SIZES[shape]
    if model.sizes is not None:
        listed = [size for size in model.sizes.values or [] if _shape_of(size) == shape]
        return next((size for size in [*sizes, *listed] if model.sizes.accepts(size)), None), {}
    option = model.params.get("aspect_ratio")
    if option is not None and (option.enum is None or ratio in option.enum):
        return None, {"aspect_ratio": ratio}
    return None, {}


def _call_arguments(spec: PromptSpec, model: ModelSpec, picture: str) -> dict[str, Any]:
    """The ``generate_image`` arguments, checked against the model's catalog entry; optional
    extras the model refuses (alone or together) are left out."""
    from imagegate import InvalidRequest, validate_request

    size, params = _shape_arguments(model, spec.shape)
    if spec.vector and model.format_param and model.output_format({}) != "svg":
        params[model.format_param] = "svg"
    extras = {name: value for name, value in spec.extras if name in model.params}
    for candidate in ({**params, **extras}, params):
        try:
            validate_request(model, "generate", prompt=picture, size=size, n=None, params=candidate)
        except InvalidRequest:
            continue
        params = candidate
        break
    arguments: dict[str, Any] = {"prompt": picture, "model": model.id}
    if size:
        arguments["size"] = size
    if params:
        arguments["params"] = params
    return arguments


def available_prompts(gateway: Gateway, settings: MCPSettings) -> dict[str, tuple[PromptSpec, ModelSpec]]:
    """The prompts whose model is offered, each with the model it suggests."""
    from .tools import offered_models

    offered = offered_models(gateway, settings)
    chosen = {spec.name: (spec, _model_for(spec, offered, gateway.default_model)) for spec in PROMPTS}
    return {name: (spec, model) for name, (spec, model) in chosen.items() if model is not None}


def prompt_listing(spec: PromptSpec) -> Prompt:
    from mcp_types import Prompt, PromptArgument

    return Prompt(name=spec.name, title=spec.title, description=spec.description, arguments=[
        PromptArgument(name=arg.name, description=arg.description, required=arg.required)
        for arg in spec.arguments])


def check_prompt_arguments(spec: PromptSpec, arguments: dict[str, Any]) -> dict[str, str]:
    """The arguments, stripped; ``InvalidRequest`` naming the first unknown, missing or bad one."""
    from imagegate import InvalidRequest

    from .errors import clip

    names = [arg.name for arg in spec.arguments]
    for name in arguments:
        if name not in names:
            msg = f"prompt {spec.name} has no argument {clip(repr(name))}; its arguments: {', '.join(names)}"
            raise InvalidRequest(msg, param=name)
    checked: dict[str, str] = {}
    for arg in spec.arguments:
        value = arguments.get(arg.name)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"{arg.name} must be a string", param=arg.name)
        text = (value or "").strip()
        if len(text) > ARGUMENT_MAX:
            msg = f"{arg.name} is {len(text)} characters; prompt {spec.name} takes at most {ARGUMENT_MAX}"
            raise InvalidRequest(msg, param=arg.name)
        if arg.required and not text:
            msg = f"prompt {spec.name} needs the argument {arg.name}: {arg.description}"
            raise InvalidRequest(msg, param=arg.name)
        if text:
            checked[arg.name] = text
    return checked


def render_prompt(spec: PromptSpec, model: ModelSpec, arguments: dict[str, Any]) -> GetPromptResult:
    """The prompt's one user message: the tool to call and its arguments, as JSON."""
    import orjson
    from mcp_types import GetPromptResult, PromptMessage, TextContent

    call = _call_arguments(spec, model, spec.picture(check_prompt_arguments(spec, arguments)))
    text = (f"{spec.description} Call the tool generate_image with these arguments (model {model.id} "
            f"from the catalog: {model.description or model.provider}):\n"
            f"{orjson.dumps(call, option=orjson.OPT_INDENT_2).decode()}\n"
            "Adjust the prompt text if the user asks for changes; describe_model lists the model's other "
            "options. Then show the user the image the result links to.")
    return GetPromptResult(description=spec.description,
                           messages=[PromptMessage(role="user", content=TextContent(text=text))])
