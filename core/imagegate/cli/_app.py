"""The root click group; built-in commands and plugin commands are attached here."""

from __future__ import annotations

import sys
from typing import Any

import click

from .._install_hints import FRONTENDS
from ._output import fail


class JsonAwareGroup(click.Group):
    """Reports usage errors as ``{"error": ...}`` (exit 2) when ``--json`` was given, and any
    gateway error a command lets through (e.g. a bad setting) as the CLI reports errors (exit 1)."""

    as_json = False

    def invoke(self, ctx: click.Context) -> Any:
        from .._errors import ImagegateError

        try:
            return super().invoke(ctx)
        except ImagegateError as exc:
            fail(exc.to_dict(), self.as_json)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        argv = list(args[0]) if args and args[0] is not None else sys.argv[1:]
        self.as_json = "--json" in argv
        if not self.as_json:
            return super().main(*args, **kwargs)
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            from .._errors import InvalidRequest

            fail(InvalidRequest(exc.format_message()).to_dict(), True, status=2)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            sys.exit(1)


@click.group(cls=JsonAwareGroup)
@click.version_option(package_name="imagegate")
def cli() -> None:
    """Generate and edit images with any provider.

    Runs offline with the built-in `placeholder` model; set PROVIDERS__OPENAI__API_KEY or
    PROVIDERS__REPLICATE__API_TOKEN to use real models. `imagegate models` lists them.
    """


@cli.group()
def serve() -> None:
    """Serve the gateway (servers come from front-end plugins)."""


def build_cli() -> click.Group:
    from .._plugins import make_plugin_manager
    from . import _doctor as doctor
    from . import _gc as gc
    from . import _images as images
    from . import _info as info
    from . import _jobs as jobs
    from . import _keys as keys
    from . import _transform as transform

    images.attach(cli)
    gc.attach(cli)
    info.attach(cli)
    doctor.attach(cli)
    transform.attach(cli)
    keys.attach(cli)
    jobs.attach(cli)
    pm = make_plugin_manager()
    pm.hook.register_commands(cli=cli)
    pm.hook.serve_subcommand(serve=serve)
    if not serve.commands:
        serve.help = "Serve the gateway. No front-end is installed: pip install imagegate-http or imagegate-mcp."
    for name, distribution in FRONTENDS.items():
        if name not in serve.commands:
            serve.add_command(_missing_frontend(name, distribution))
    return cli


def _missing_frontend(name: str, distribution: str) -> click.Command:
    """``imagegate serve NAME`` when its plugin is not installed: say which distribution serves it."""

    @click.command(name, hidden=True, add_help_option=False,
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def missing() -> None:
        from .._errors import InvalidRequest
        from .._install_hints import install_hint

        msg = f"imagegate serve {name} is not available{install_hint(distribution)}"
        fail(InvalidRequest(msg, param="serve").to_dict(), cli.as_json)

    return missing


def main() -> None:
    build_cli()(prog_name="imagegate")
