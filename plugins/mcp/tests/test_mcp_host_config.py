"""``imagegate mcp config``: a block each desktop host accepts, naming this installation, no secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from imagegate_mcp.host_config import CLIENTS, attach
from mcp import Client, StdioServerParameters

SECRET = "sk-do-not-print-0123456789"
INSTALLED = Path(sys.executable).with_name("imagegate")


def config(*args: str) -> click.testing.Result:
    group = click.Group()
    attach(group)
    return CliRunner().invoke(group, ["mcp", "config", *args], env={"OPENAI_API_KEY": SECRET})


@pytest.mark.parametrize(("client", "servers_key", "reference"), [
    ("claude-desktop", "mcpServers", "<your OPENAI_API_KEY>"),
    ("claude-code", "mcpServers", "${OPENAI_API_KEY}"),
    ("cursor", "mcpServers", "${env:OPENAI_API_KEY}"),
    ("vscode", "servers", "${input:OPENAI_API_KEY}"),
])
def test_each_client_gets_its_own_format(client: str, servers_key: str, reference: str) -> None:
    result = config("--client", client, "--env", "OPENAI_API_KEY", "--env", "IMAGEGATE_CONFIG")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    document = json.loads(result.stdout)
    entry = document[servers_key]["imagegate"]
    assert entry["command"] == str(INSTALLED) and Path(entry["command"]).is_absolute()
    assert entry["args"] == ["serve", "mcp"]
    assert entry["env"]["OPENAI_API_KEY"] == reference
    assert set(entry["env"]) == {"OPENAI_API_KEY", "IMAGEGATE_CONFIG"}
    assert ("type" in entry) == (client in {"claude-code", "vscode"})
    assert CLIENTS[client].file.split()[0] in result.stderr


def test_vscode_prompts_for_each_variable_as_a_password() -> None:
    document = json.loads(config("--client", "vscode", "--env", "OPENAI_API_KEY").stdout)
    assert document["inputs"] == [
        {"type": "promptString", "id": "OPENAI_API_KEY", "description": "OPENAI_API_KEY", "password": True}]


def test_without_env_there_is_no_env_block() -> None:
    document = json.loads(config("--client", "cursor", "--name", "images").stdout)
    assert "env" not in document["mcpServers"]["images"]


@pytest.mark.parametrize("bad", [f"OPENAI_API_KEY={SECRET}", "1ABC", ""])
def test_a_value_instead_of_a_name_is_refused_without_echoing_it(bad: str) -> None:
    result = config("--client", "cursor", "--env", bad)
    assert result.exit_code == 2
    assert "--env" in result.output and "never NAME=VALUE" in result.output
    assert SECRET not in result.output


def test_unknown_client_lists_the_known_ones() -> None:
    result = config("--client", "emacs")
    assert result.exit_code == 2
    assert all(name in result.output for name in CLIENTS)


async def test_the_printed_command_starts_a_working_server(tmp_path: Path) -> None:
    """Through the installed CLI (the plugin's register_commands), then as a host would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORAGE__", "PROVIDERS__", "MCP__"))}
    env.update(STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"))
    done = subprocess.run([str(INSTALLED), "mcp", "config", "--client", "claude-code"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)["mcpServers"]["imagegate"]
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env)
    async with Client(params, mode="legacy") as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"generate_image", "list_available_models"} <= tools
