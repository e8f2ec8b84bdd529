"""The official MCP Inspector CLI (TypeScript SDK 1.x, like most desktop hosts) reads our results.

Its client validates ``structuredContent`` against the tool's output schema even on ``isError``
results and throws the error away when it does not match, so failed calls must carry none. The
Inspector is installed by ``make tools`` into ``.tools/node`` (pinned in the Makefile); without
it these tests are skipped, saying so. Nothing is downloaded here.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from .support import RunningServer

INSPECTOR = Path(__file__).resolve().parents[3] / ".tools" / "node" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.skipif(
    not INSPECTOR.is_file(), reason=f"the MCP Inspector CLI is not installed at {INSPECTOR}; run `make tools`")

ERROR_KEYS = {"code", "message", "retryable", "provider", "param", "retry_after"}


async def inspector(*args: str) -> dict[str, Any]:
    """Run the Inspector CLI; what it printed on stdout (it exits non-zero when its client throws)."""
    process = await asyncio.create_subprocess_exec(
        str(INSPECTOR), "--cli", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(120):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()[-2000:]
    return json.loads(out)  # type: ignore[no-any-return]


def stdio_target(tmp_path: Path) -> list[str]:
    """``imagegate serve mcp`` as the Inspector spawns it (it passes only the ``-e`` variables)."""
    env = {"STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
           "HOME": os.environ.get("HOME", str(tmp_path))}
    return [*(arg for key, value in env.items() for arg in ("-e", f"{key}={value}")),
            sys.executable, "-c", "from imagegate.cli import main; main()", "serve", "mcp"]


def call(tool: str, **arguments: str) -> list[str]:
    return ["--method", "tools/call", "--tool-name", tool, "--tool-arg",
            *(f"{key}={value}" for key, value in arguments.items())]


def error_of(result: dict[str, Any]) -> dict[str, Any]:
    """The error object of an ``isError`` result as the Inspector shows it: text only."""
    assert result["isError"] is True and "structuredContent" not in result
    (block,) = result["content"]
    body = json.loads(block["text"])
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    return body["error"]  # type: ignore[no-any-return]


async def test_error_objects_and_a_success_over_stdio(tmp_path: Path) -> None:
    target = stdio_target(tmp_path)
    no_key, bad_size, unknown, success, listed = await asyncio.gather(
        inspector(*target, *call("generate_image", prompt="a fox", model="gpt-image-2")),
        inspector(*target, *call("generate_image", prompt="a fox", size="10x10")),
        inspector(*target, *call("generate_image", prompt="a fox", model="no-such-model")),
        inspector(*target, *call("generate_image", prompt="a fox", size="64x64", n="2")),
        inspector(*target, "--method", "tools/list"))

    key = error_of(no_key)
    assert (key["code"], key["provider"], key["param"]) == ("authentication", "openai", "PROVIDERS__OPENAI__API_KEY")
    size = error_of(bad_size)
    assert (size["code"], size["param"], size["retryable"]) == ("invalid_request", "size", False)
    assert "64 to 2048" in size["message"]
    model = error_of(unknown)
    assert (model["code"], model["param"]) == ("not_found", "model") and "placeholder" in model["message"]

    assert success.get("isError") is not True
    data = success["structuredContent"]
    schema = next(t for t in listed["tools"] if t["name"] == "generate_image")["outputSchema"]
    assert list(Draft202012Validator(schema).iter_errors(data)) == []
    assert json.loads(success["content"][0]["text"]) == data
    assert [(i["width"], i["height"]) for i in data["images"]] == [(64, 64), (64, 64)]


async def test_error_object_and_a_success_over_streamable_http(http_server: RunningServer) -> None:
    target = [http_server.url, "--transport", "http"]
    bad, good = await asyncio.gather(
        inspector(*target, *call("generate-fluxdev", prompt="a fox", guidance="20")),
        inspector(*target, *call("generate-fluxdev", prompt="a fox", aspect_ratio="16:9")))
    error = error_of(bad)
    assert (error["code"], error["param"]) == ("invalid_request", "guidance")
    assert good["structuredContent"]["model"] == "flux-dev"
    assert good["structuredContent"]["images"][0]["url"].startswith(http_server.url.removesuffix("/mcp"))


async def test_prompts_list_and_get_over_stdio(tmp_path: Path) -> None:
    target = stdio_target(tmp_path)
    listed, got = await asyncio.gather(
        inspector(*target, "--method", "prompts/list"),
        inspector(*target, "--method", "prompts/get", "--prompt-name", "icon", "--prompt-args", "subject=a fox"))
    prompts = {prompt["name"]: prompt for prompt in listed["prompts"]}
    assert set(prompts) == {"logo", "icon", "product_shot", "portrait", "avatar_grid"}
    subject = prompts["icon"]["arguments"][0]
    assert (subject["name"], subject["required"]) == ("subject", True)
    text = got["messages"][0]["content"]["text"]
    assert '"model": "placeholder"' in text and '"output_format": "svg"' in text
