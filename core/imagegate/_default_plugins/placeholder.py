"""The offline ``placeholder`` provider: real pictures rendered locally, no key, no network.

It serves generate, edit and variation for any ``WxH`` from 64 to 2048, in PNG, JPEG, WEBP or SVG,
with real transparency; the prompt and seed decide the picture and the same inputs give the same
bytes. It is registered exactly like an installed provider plugin, which keeps the hooks honest
and lets every front-end and test run the whole pipeline offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imagegate import hookimpl
from imagegate._provider import BaseProvider, ProviderImage, ProviderResult

if TYPE_CHECKING:
    from imagegate._catalog import ModelSpec
    from imagegate._provider import ProviderCall

NAME = "placeholder"


def model_spec() -> ModelSpec:
    """The catalog entry (imported lazily: pydantic costs start-up time)."""
    from imagegate._catalog import ModelSpec, ParamSpec, Pricing, PriceRule, Requirement, SizeSpec

    return ModelSpec(
        id="placeholder",
        provider=NAME,
        upstream="placeholder",
        description="Offline test pictures drawn locally from the prompt; free, instant, deterministic.",
        operations=["generate", "edit", "variation"],
        prompt_max_length=32000,
        sizes=SizeSpec(min_side=64, max_side=2048),
        default_size="1024x1024",
        n_min=1,
        n_max=10,
        params={
            "output_format": ParamSpec(enum=["png", "jpeg", "webp", "svg"], default="png",
                                       description="File format of the result."),
            "background": ParamSpec(enum=["transparent", "opaque", "auto"], default="auto",
                                    description="transparent needs png, webp or svg."),
            "seed": ParamSpec(type="integer", minimum=0, maximum=2**32 - 1,
                              description="Same prompt and seed give the same picture."),
        },
        requirements=[Requirement(when={"background": ["transparent"]},
                                  then={"output_format": ["png", "webp", "svg", None]})],
        output_formats=["png", "jpeg", "webp", "svg"],
        format_param="output_format",
        input_formats=["png", "jpeg", "webp"],
        max_input_images=16,
        mask=True,
        pricing=Pricing(per_image=[PriceRule(usd=0.0)]),
    )


def _size(call: ProviderCall) -> tuple[int | None, int | None]:
    size = call.size or (None if call.operation != "generate" else call.model.default_size)
    if not size:
        return None, None
    width, height = size.split("x")
    return int(width), int(height)


def _render_one(call: ProviderCall, index: int) -> bytes:
    from . import placeholder_render as render

    width, height = _size(call)
    fmt = call.params.get("output_format", "png")
    background = call.params.get("background", "auto")
    seed = call.params.get("seed")
    seed = None if seed is None else seed + index
    if call.operation == "generate" and call.grid is not None:
        from .placeholder_grid import render_grid

        grid = call.grid
        panels = grid.cells or [f"{call.prompt}\x00{i}" for i in range(grid.count)]
        return render_grid(panels, rows=grid.rows, columns=grid.columns, width=width or 1024, height=height or 1024,
                           output_format=fmt, seed=seed)
    if call.operation == "generate":
        prompt = call.prompt or ""
        if seed is None and index:
            prompt = f"{prompt}\x00{index}"
        return render.render(prompt, width=width or 1024, height=height or 1024, output_format=fmt,
                             background=background, seed=seed)
    source = call.images[index % len(call.images)].data
    if call.operation == "edit":
        mask = call.mask.data if call.mask else None
        return render.edit(source, f"{call.prompt}\x00{index}" if index else call.prompt or "",
                           width=width, height=height, output_format=fmt, background=background, seed=seed,
                           mask=mask)
    return render.vary(source, width=width, height=height, output_format=fmt, seed=seed if seed is not None else index)


class PlaceholderProvider(BaseProvider):
    """Renders in a worker thread so the event loop never waits on Pillow."""

    name = NAME
    cancellable = True

    async def run(self, call: ProviderCall) -> ProviderResult:
        import asyncio  # here, not at the top: the CLI loads this plugin for --help too

        from imagegate._catalog import FORMAT_MIME
        from imagegate._errors import InvalidRequest

        for image in call.images:
            if image.width is not None and image.height is not None and min(image.width, image.height) < 64:
                msg = f"placeholder needs input images of at least 64x64; got {image.width}x{image.height}"
                raise InvalidRequest(msg, param="image", provider=NAME)
        mime = FORMAT_MIME[call.params.get("output_format", "png")]
        images = []
        for index in range(call.n):
            call.progress("rendering", {"image": index + 1, "of": call.n})
            data = await asyncio.to_thread(_render_one, call, index)
            images.append(ProviderImage(data=data, mime_type=mime, seed=call.params.get("seed")))
        return ProviderResult(images=images, provider_request_id=None, model_version="placeholder-1")


@hookimpl
def register_providers(register: Any, settings: Any) -> None:
    register.add_provider(PlaceholderProvider())
    register.add_model(model_spec())


@hookimpl
def register_settings(register: Any) -> None:
    from imagegate._settings import ProviderSettings

    register.add_section(f"providers.{NAME}", ProviderSettings)
