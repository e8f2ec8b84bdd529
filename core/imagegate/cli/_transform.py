"""``imagegate transform ID OP``: a resized, cropped, thumbnailed or converted copy of a stored image."""

from __future__ import annotations

from typing import Any

import click

from ._output import JSON_OPTION, cli_gateway, echo, emit_json, run_async

_OPS = ("resize", "crop", "thumbnail", "convert")


@click.command()
@click.argument("image_id")
@click.argument("op", type=click.Choice(_OPS))
@click.option("--width", type=int, help="resize, crop: width in pixels.")
@click.option("--height", type=int, help="resize, crop: height in pixels.")
@click.option("--mode", type=click.Choice(["fit", "fill"]), help="resize: fit inside (default) or fill and crop.")
@click.option("--left", type=int, help="crop: left edge (default 0).")
@click.option("--top", type=int, help="crop: top edge (default 0).")
@click.option("--size", type=int, help="thumbnail: the longest side (16 to 1024).")
@click.option("--format", "fmt", type=click.Choice(["png", "jpeg", "webp"]), help="Output format (default: the source's).")
@click.option("--quality", type=int, help="jpeg, webp: 1 to 100.")
@JSON_OPTION
def transform(image_id: str, op: str, fmt: str | None, as_json: bool, **params: Any) -> None:
    """Store a transformed copy of IMAGE_ID (the original is never changed); prints the new image's path."""
    async def go() -> None:
        async with cli_gateway() as gateway:
            if op == "thumbnail" and params.get("size") is not None and fmt is None and params["quality"] is None:
                image = await gateway.thumbnail(image_id, params["size"], frontend="cli")
            else:
                image = await gateway.transform(image_id, op, {**params, "format": fmt}, frontend="cli")
        if as_json:
            emit_json({"images": [image.as_dict()], "source": image_id})
        else:
            echo(image.path or image.url)

    run_async(go, as_json)


def attach(cli: click.Group) -> None:
    cli.add_command(transform)
