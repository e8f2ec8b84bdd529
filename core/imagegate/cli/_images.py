"""Image commands: generate, edit, vary (now, or ``--async`` as a background job), get, list, delete."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._output import (
    API_KEY_OPTION,
    JSON_OPTION,
    cli_gateway,
    echo,
    emit_json,
    fail,
    print_result,
    progress_printer,
    run_async,
)
from ._request_args import RequestArgs

if TYPE_CHECKING:
    from .._catalog import Operation
    from .._gateway import Gateway
    from .._models import ImageResult


def _common(fn: Any) -> Any:
    for option in reversed([
        click.option("-m", "--model", help="Model id or alias (default: GATEWAY__DEFAULT_MODEL)."),
        click.option("--size", help="WxH, e.g. 1024x1024 (see `imagegate models`)."),
        click.option("-n", "n", type=int, help="Number of images."),
        click.option("--param", "params", multiple=True, metavar="K=V",
                     help="A model parameter, converted to its declared type; repeatable."),
        click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Also write a copy of each image here; the printed path is the copy."),
        JSON_OPTION,
        click.option("--dry-run", is_flag=True, help="Validate and price the request without making it."),
        click.option("--async", "background", is_flag=True,
                     help="Validate, record the job and print it (id, status) at once; a background "
                          "imagegate process runs it (`imagegate jobs wait ID` gets the images)."),
        API_KEY_OPTION,
    ]):
        fn = option(fn)
    return fn


def _split_params(pairs: tuple[str, ...], as_json: bool) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            from .._errors import InvalidRequest

            fail(InvalidRequest(f"--param {pair!r} is not K=V", param="param").to_dict(), as_json, status=2)
        params[key.strip()] = value
    return params


def _dispatch(operation: Operation, *, prompt: str | None, images: tuple[str, ...] = (), mask: str | None = None,
              markup: str | None = None, model: str | None, size: str | None, n: int | None,
              params: tuple[str, ...], output_dir: Path | None, as_json: bool, dry_run: bool, background: bool,
              api_key: str | None, grid: str | None = None, cells: tuple[str, ...] = ()) -> None:
    """Run the request now, price it (``--dry-run``), or submit it as a background job (``--async``)."""
    args = RequestArgs(operation, prompt, images, mask, markup, model, size, n, _split_params(params, as_json),
                       grid, cells)
    if background:
        if dry_run or output_dir is not None:
            flag = "--dry-run" if dry_run else "--output-dir"
            raise click.UsageError(f"--async does not go with {flag} (`imagegate jobs wait ID` prints the images)")
        from ._background import submit
        from ._jobs import print_job

        job = submit(args, api_key, as_json)
        print_job(job, None, as_json)
        if sys.stderr.isatty() and not as_json:
            echo(f"`imagegate jobs wait {job['id']}` prints its images when it ends", err=True)
        return
    run_async(lambda: _run(args, api_key=api_key, output_dir=output_dir, as_json=as_json, dry_run=dry_run), as_json)


async def _run(args: RequestArgs, *, api_key: str | None, output_dir: Path | None, as_json: bool,
               dry_run: bool) -> None:
    from .._job_runs import owner_of

    async with cli_gateway() as gateway:
        spec, request = await args.build(gateway)
        if dry_run:
            from ._dry_run import dry_run as report

            await report(gateway, spec, args.operation, request, as_json)
            return
        progress = progress_printer(sys.stderr.isatty() and not as_json)
        result = await gateway.run(args.operation, request, owner=owner_of(api_key), frontend="cli",
                                   progress=progress, trusted_paths=True)
        if output_dir is not None:
            _copy_out(result, output_dir)
        print_result(result, as_json)


def _copy_out(result: ImageResult, output_dir: Path) -> None:
    from .._imagetype import EXTENSIONS

    output_dir.mkdir(parents=True, exist_ok=True)
    for image in result.images:
        target = output_dir / f"{image.id}.{EXTENSIONS[image.mime_type]}"
        if image.data is not None:
            target.write_bytes(image.data)
        elif image.path:
            shutil.copyfile(image.path, target)
        image.path = str(target)


@click.command()
@click.argument("prompt", required=False)
@click.option("--grid", metavar="RxC", help="One image of R rows by C columns of panels (1 to 6 each), "
              "stored whole and cut into tiles; prints the tiles in cell order, then the grid.")
@click.option("--cell", "cells", multiple=True, metavar="TEXT",
              help="With --grid: one panel's description, in reading order; give R×C of them.")
@_common
def generate(prompt: str | None, **kwargs: Any) -> None:
    """Generate images from PROMPT; prints each image's path and its metadata JSON's path."""
    if prompt is None and not kwargs["cells"]:
        raise click.UsageError("Missing argument 'PROMPT' (or give --grid with --cell descriptions).")
    _dispatch("generate", prompt=prompt, **kwargs)


@click.command()
@click.argument("images", nargs=-1, required=True)
@click.option("--prompt", required=True, help="What to change.")
@click.option("--mask", help="PNG whose transparent areas are edited.")
@click.option("--markup", help="PNG drawn over the first image to guide the edit (never with --mask).")
@_common
def edit(images: tuple[str, ...], prompt: str, mask: str | None, markup: str | None, **kwargs: Any) -> None:
    """Edit IMAGE(s): paths, stored image ids, or https URLs."""
    _dispatch("edit", prompt=prompt, images=images, mask=mask, markup=markup, **kwargs)


@click.command()
@click.argument("image")
@_common
def vary(image: str, **kwargs: Any) -> None:
    """Make variations of IMAGE (a path or a stored image id)."""
    _dispatch("variation", prompt=None, images=(image,), **kwargs)


async def _get(gateway: Gateway, image_id: str) -> dict[str, Any]:
    image = await gateway.describe(image_id)
    metadata = await gateway.metadata(image_id)
    return {
        "images": [image.as_dict()],
        "model": metadata.get("model"),
        "provider": metadata.get("provider"),
        "revised_prompt": metadata.get("revised_prompt"),
        "cost": metadata.get("cost", {"estimated_usd": None, "actual_usd": None}),
        "request_id": metadata.get("request_id"),
        "parent_ids": list(metadata.get("parent_ids") or []),
    }


def _line(entry: dict[str, Any]) -> str:
    if entry.get("missing"):
        return f"{entry['id']}  (deleted)"
    return f"{entry['id']}  {entry.get('operation') or ''}  {entry.get('model') or ''}  {(entry.get('created') or '')[:19]}"


def _print_lineage(found: dict[str, Any]) -> None:
    """Ancestors from the oldest down to the image, then what was made from it."""
    for entry in reversed(found["ancestors"]):
        echo(f"parent  {_line(entry)}")
    echo(f"image   {_line(found['image'])}")
    for entry in found["descendants"]:
        echo(f"child   {_line(entry)}  from {', '.join(entry['parent_ids'])}")


@click.command()
@click.argument("image_id")
@click.option("--lineage", "show_lineage", is_flag=True,
              help="Show the images it was made from and those made from it (scans the stored images).")
@JSON_OPTION
def get(image_id: str, show_lineage: bool, as_json: bool) -> None:
    """Show a stored image: its path, a fresh URL and its metadata."""
    async def go() -> None:
        async with cli_gateway(writes=False) as gateway:
            if show_lineage:
                from .._lineage import lineage

                found = await lineage(gateway, image_id)
                if as_json:
                    emit_json(found)
                else:
                    _print_lineage(found)
                return
            found = await _get(gateway, image_id)
            if as_json:
                emit_json(found)
                return
            image = found["images"][0]
            echo(image["path"] or image["url"])
            echo(f"url: {image['url']}")
            echo(f"{image['mime_type']} {image['width']}x{image['height']} {image['bytes']} bytes "
                       f"sha256 {image['sha256']} model {found['model']}")

    run_async(go, as_json)


@click.command(name="list")
@click.option("--limit", type=int, default=50, show_default=True)
@JSON_OPTION
def list_images(limit: int, as_json: bool) -> None:
    """List stored images, newest first."""
    async def go() -> None:
        async with cli_gateway(writes=False) as gateway:
            items = await gateway.list(limit=limit)
            if as_json:
                emit_json(items)
                return
            for item in items:
                size = f"{item.get('width')}x{item.get('height')}"
                echo(f"{item['id']}  {item.get('created', '')[:19]}  {item.get('model')}  {size}  "
                           f"{item.get('mime_type')}")

    run_async(go, as_json)


@click.command()
@click.argument("image_id")
@JSON_OPTION
def delete(image_id: str, as_json: bool) -> None:
    """Delete a stored image and its metadata."""
    async def go() -> None:
        async with cli_gateway(writes=False) as gateway:
            await gateway.delete(image_id)
            if as_json:
                emit_json({"id": image_id, "deleted": True})
            else:
                echo(f"deleted {image_id}")

    run_async(go, as_json)


def attach(cli: click.Group) -> None:
    for command in (generate, edit, vary, get, list_images, delete):
        cli.add_command(command)
