"""How the CLI reports: plain text or one JSON document, and errors with their codes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ._printable import printable, printable_value

if TYPE_CHECKING:
    from .._gateway import Gateway
    from .._models import ImageOut, ImageResult

T = TypeVar("T")

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
API_KEY_OPTION = click.option(
    "--api-key", envvar="IMAGEGATE_API_KEY", show_envvar=True, metavar="KEY",
    help="Act as this gateway key's owner: see and run the jobs of HTTP clients using it "
         "(default: the local owner, shared with MCP over stdio and HTTP without keys).")


def echo(text: str, *, err: bool = False) -> None:
    """Print a line for a person, without anything a terminal would obey (see :mod:`.printable`)."""
    click.echo(printable(text), err=err)


def emit_json(value: Any) -> None:
    import orjson

    document = orjson.dumps(printable_value(value), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    sys.stdout.write(document.decode() + "\n")


def fail(error: dict[str, Any], as_json: bool, status: int = 1) -> NoReturn:
    """Report an error (``{"error": {...}}`` with ``--json``) and exit with ``status``."""
    if as_json:
        emit_json({"error": error})
    else:
        where = f" [{error['param']}]" if error.get("param") else ""
        hint = " (retryable)" if error.get("retryable") else ""
        echo(f"error: {error['code']}{where}: {error['message']}{hint}", err=True)
        if error.get("spool_path"):
            echo(f"the image is kept at {error['spool_path']}", err=True)
    sys.exit(status)


@asynccontextmanager
async def cli_gateway(*, writes: bool = True) -> AsyncIterator[Gateway]:
    """The gateway a command works with: configured from the environment, with scrubbed warnings
    (and errors) on stderr. Commands that only read or delete (``writes=False``) do not need a
    writable backend (images paid for while it is down are read from the spool), and leave the
    jobs a dead process left to the next command that writes (or server) to run."""
    from .._gateway import open_gateway
    from .._logsetup import configure_logging
    from .._settings import Settings

    settings = Settings()
    configure_logging(settings, quiet_by_default=True)
    async with open_gateway(settings, check_storage=writes, take_over=writes) as gateway:
        yield gateway


def run_async(coro_fn: Callable[[], Coroutine[Any, Any, T]], as_json: bool) -> T:
    """Run a coroutine, turning gateway errors into the CLI's error output."""
    import asyncio

    from .._errors import ImagegateError, Timeout

    try:
        return asyncio.run(coro_fn())
    except ImagegateError as exc:
        fail(exc.to_dict(), as_json)
    except KeyboardInterrupt:
        fail(Timeout("interrupted").to_dict(), as_json, status=130)


def progress_printer(enabled: bool) -> Callable[[str, dict[str, Any]], None]:
    """Progress lines on stderr when it is a terminal."""

    def show(message: str, data: dict[str, Any]) -> None:
        if enabled:
            details = " ".join(f"{k}={v}" for k, v in data.items())
            echo(f"… {message} {details}".rstrip(), err=True)

    return show


def _metadata_path(image: ImageOut) -> str | None:
    if not image.path:
        return None
    return str(Path(image.path).with_suffix(".json"))


def print_result(result: ImageResult, as_json: bool) -> None:
    """Each image's path (or URL) and metadata path, or the result's JSON; a summary on a terminal."""
    if as_json:
        emit_json(result.contract())
        return
    for image in result.images:
        echo(image.path or image.url)
        meta = _metadata_path(image)
        if meta and Path(meta).exists():
            echo(meta)
    if sys.stderr.isatty():  # a summary for a person; scripts get a clean stderr
        cost = result.cost.actual_usd if result.cost.actual_usd is not None else result.cost.estimated_usd
        price = "" if cost is None else f", ${cost:.4f}{' (unofficial prices)' if result.cost.unofficial else ''}"
        ids = " ".join(image.id for image in result.images)
        echo(f"{result.model} ({result.provider}{price}): {ids}", err=True)
    for note in result.notes:
        echo(f"note: {note}", err=True)
