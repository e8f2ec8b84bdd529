"""How the CLI reports: plain text or one JSON document, and errors with their codes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ._printable import printable, printable_value

if TYPE_CHECKING:
    from .._gateway import Gateway

T = TypeVar("T")

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


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
    writable backend: images paid for while it is down are read from the spool."""
    from .._gateway import open_gateway
    from .._logsetup import configure_logging
    from .._settings import Settings

    settings = Settings()
    configure_logging(settings, quiet_by_default=True)
    async with open_gateway(settings, check_storage=writes) as gateway:
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
