"""``imagegate mcp config --client NAME [--env VAR ...]``: the block a desktop MCP host needs.

It names the installed ``imagegate`` executable by its absolute path (hosts start servers without
the user's shell ``PATH``) and passes the environment variables the user names — by reference in
the host's own syntax where the host has one, as a placeholder to fill in where it has none.
Values are never read or printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

__all__ = ["CLIENTS", "attach", "host_config", "server_command"]

SERVE_ARGS = ["serve", "mcp"]
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Client:
    """One MCP host: where its configuration lives and how it refers to an environment variable."""

    file: str
    servers_key: str
    reference: str
    """``{name}`` becomes the variable's name; a value without it is a placeholder to replace."""
    typed: bool
    """Whether each server entry carries ``"type": "stdio"``."""


CLIENTS: dict[str, Client] = {
    # no variable expansion: the user pastes the value into the file themselves
    "claude-desktop": Client("claude_desktop_config.json (Settings > Developer > Edit Config)",
                             "mcpServers", "<your {name}>", typed=False),
    "claude-code": Client(".mcp.json in the project, or: claude mcp add-json imagegate '<the server entry>'",
                          "mcpServers", "${{{name}}}", typed=True),
    "cursor": Client("~/.cursor/mcp.json, or .cursor/mcp.json in the project", "mcpServers",
                     "${{env:{name}}}", typed=False),
    "vscode": Client(".vscode/mcp.json in the workspace (MCP: Open User Configuration for every workspace)",
                     "servers", "${{input:{name}}}", typed=True),
}


def server_command() -> list[str]:
    """The absolute command that starts this installation's ``imagegate`` (its script beside the
    running interpreter, else the one on PATH, else the interpreter running the CLI module)."""
    beside = Path(sys.executable).with_name("imagegate.exe" if os.name == "nt" else "imagegate")
    if beside.is_file():
        return [str(beside.absolute())]
    found = shutil.which("imagegate")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-c", "from imagegate.cli import main; main()"]


def host_config(client: str, env_names: list[str], name: str = "imagegate") -> dict[str, Any]:
    """The configuration document for ``client`` with one server entry named ``name``."""
    host = CLIENTS[client]
    command, *prefix = server_command()
    entry: dict[str, Any] = {"type": "stdio"} if host.typed else {}
    entry.update(command=command, args=[*prefix, *SERVE_ARGS])
    if env_names:
        entry["env"] = {var: host.reference.format(name=var) for var in env_names}
    document: dict[str, Any] = {host.servers_key: {name: entry}}
    if client == "vscode" and env_names:
        document["inputs"] = [{"type": "promptString", "id": var, "description": var, "password": True}
                              for var in env_names]
    return document


def _env_names(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    for value in values:
        if not _ENV_NAME.fullmatch(value):
            # the text is not echoed: it may be NAME=secret
            raise click.BadParameter("takes a variable name such as OPENAI_API_KEY (letters, digits, _), "
                                     "never NAME=VALUE")
    return list(dict.fromkeys(values))


def attach(cli: click.Group) -> None:
    """Add ``imagegate mcp config`` to the root command group."""

    @cli.group(name="mcp")
    def mcp_group() -> None:
        """Connect desktop MCP hosts to this installation."""

    @mcp_group.command(name="config")
    @click.option("--client", required=True, type=click.Choice(sorted(CLIENTS)), help="The MCP host.")
    @click.option("--env", "env_names", multiple=True, callback=_env_names, metavar="NAME",
                  help="An environment variable the server needs, e.g. OPENAI_API_KEY (repeatable). "
                       "Referenced by name; its value is never printed.")
    @click.option("--name", default="imagegate", show_default=True, help="The server's name in the host.")
    def config(client: str, env_names: list[str], name: str) -> None:
        """Print the block that makes the --client host start `imagegate serve mcp`."""
        click.echo(json.dumps(host_config(client, env_names, name), indent=2))
        click.echo(f"Add it to {CLIENTS[client].file}, then restart the host.", err=True)
        if client == "claude-desktop" and env_names:
            click.echo("Claude Desktop does not expand variables: replace each <your NAME> with its value.",
                       err=True)
