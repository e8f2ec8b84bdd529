"""What the MCP plugin's tests share besides fixtures (those live in conftest.py).

Fake provider plugins registered in-process declare their per-model tools as catalog data
(``ToolHint``), as any provider plugin does: ``generate-openai`` (``gpt-image-1`` and ``dall-e-3``
of an ``openai`` provider), ``generate-fluxdev`` and ``generate-svg`` (a ``replicate`` provider),
``generate-acme`` (a third-party ``acme`` provider). A ``locked`` provider has no key, so its tool
is not offered by default. ``FakeUpstream`` decides what they answer.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagegate import hookimpl
from imagegate._catalog import ModelSpec, ParamSpec, SizeSpec, ToolHint
from imagegate._errors import AuthenticationError, ImagegateError
from imagegate._gateway import Gateway
from imagegate._provider import BaseProvider, ProviderCall, ProviderImage, ProviderResult
from imagegate.testing import image_bytes
from mcp import Client, StdioServerParameters

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>'


def noisy_png(side: int) -> bytes:
    """A PNG that compresses badly, so it is large."""
    import os

    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class FakeUpstream:
    """What the fake providers answer, and what they saw."""

    calls: int = 0
    error: ImagegateError | None = None
    hang: bool = False
    started: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    seen: list[ProviderCall] = field(default_factory=list)
    carriers: list[dict[str, str]] = field(default_factory=list)
    """The inbound trace context of each request, as the gateway's middleware saw it."""


class FakeProvider(BaseProvider):
    def __init__(self, name: str, upstream: FakeUpstream, *, cancellable: bool, key: bool = True) -> None:
        self.name = name
        self.cancellable = cancellable
        self.upstream = upstream
        self.key = key

    def check_ready(self, model: ModelSpec) -> None:
        if not self.key:
            msg = f"set PROVIDERS__{self.name.upper()}__API_KEY to use {model.id}"
            raise AuthenticationError(msg, provider=self.name)

    async def run(self, call: ProviderCall) -> ProviderResult:
        self.upstream.calls += 1
        self.upstream.seen.append(call)
        call.progress("starting", {"status": "starting"})
        self.upstream.started.set()
        if self.upstream.hang:
            try:
                await self.upstream.release.wait()
            except asyncio.CancelledError:
                self.upstream.cancelled.set()
                raise
        if self.upstream.error is not None:
            raise self.upstream.error
        self.upstream.finished.set()
        if call.model.id == "recraft-v3-svg":
            return ProviderResult(images=[ProviderImage(SVG, "image/svg+xml")])
        return ProviderResult(images=[ProviderImage(image_bytes(), "image/png") for _ in range(call.n)])


OPENAI_TOOL = ToolHint(name="generate-openai", title="Generate with OpenAI", description="OpenAI fake tool.")
ACME_TOOL = ToolHint(name="generate-acme", title="Paint with Acme", description="Acme paints in oils.")


def fake_specs() -> list[ModelSpec]:
    return [
        ModelSpec(id="gpt-image-1", provider="openai", upstream="gpt-image-1", description="OpenAI fake.",
                  sizes=SizeSpec(values=["1024x1024", "1536x1024", "auto"]), n_min=1, n_max=10,
                  params={"quality": ParamSpec(enum=["low", "medium", "high", "auto"], description="Quality.")},
                  tool=OPENAI_TOOL.model_copy(update={"default": True})),
        ModelSpec(id="dall-e-3", provider="openai", upstream="dall-e-3", description="OpenAI fake 2.",
                  sizes=SizeSpec(values=["1024x1024", "1792x1024"]),
                  params={"quality": ParamSpec(enum=["standard", "hd"], description="Quality.")}, tool=OPENAI_TOOL),
        ModelSpec(id="flux-dev", provider="replicate", upstream="black-forest-labs/flux-dev",
                  description="Flux fake.", sizes=None, size_param=None, n_max=4, n_param="num_outputs",
                  params={"aspect_ratio": ParamSpec(enum=["1:1", "16:9"], default="1:1", description="Ratio."),
                          "guidance": ParamSpec(type="number", minimum=0, maximum=10, description="Guidance.")},
                  tool=ToolHint(name="generate-fluxdev", title="Generate with FLUX.1 [dev]", description="Flux tool.")),
        ModelSpec(id="recraft-v3-svg", provider="replicate", upstream="recraft-ai/recraft-v3-svg",
                  description="SVG fake.", sizes=SizeSpec(values=["1024x1024"]), size_param="size",
                  output_formats=["svg"],
                  tool=ToolHint(name="generate-svg", title="Generate an SVG", description="SVG tool.")),
        ModelSpec(id="acme-oils", provider="acme", upstream="oils-2", description="Acme oil paintings.",
                  sizes=SizeSpec(values=["512x512"]), params={
                      "brush": ParamSpec(enum=["fine", "broad"], description="Brush.")}, tool=ACME_TOOL),
        ModelSpec(id="acme-sketch", provider="acme", upstream="sketch-1", description="Acme sketches.",
                  recommended=True, sizes=SizeSpec(values=["512x512", "256x256"]), tool=ACME_TOOL),
        ModelSpec(id="locked-1", provider="locked", upstream="locked-1", description="A provider without key.",
                  sizes=SizeSpec(values=["512x512"]),
                  tool=ToolHint(name="generate-locked", title="Locked", description="Needs a key.")),
    ]


class FakeProvidersPlugin:
    """A provider plugin for one test: an ``openai`` (paid, not cancellable) and a ``replicate``."""

    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream

    @hookimpl
    def provider_call_wrapper(self, gateway: Any) -> Any:
        async def record(step: Any, call_next: Any) -> Any:
            if step.kind == "request":
                self.upstream.carriers.append(dict(step.carrier))
            return await call_next()

        return record

    @hookimpl
    def register_providers(self, register: Any, settings: Any) -> None:
        register.add_provider(FakeProvider("openai", self.upstream, cancellable=False))
        register.add_provider(FakeProvider("replicate", self.upstream, cancellable=True))
        register.add_provider(FakeProvider("acme", self.upstream, cancellable=False))
        register.add_provider(FakeProvider("locked", self.upstream, cancellable=False, key=False))
        for spec in fake_specs():
            register.add_model(spec)


@dataclass
class RunningServer:
    url: str
    gateway: Gateway


class LegacyHttp:
    """A bare JSON-RPC client of the 2025-11-25 handshake over streamable HTTP: what a client that
    uses tasks sends (the SDK's client rejects a ``CreateTaskResult`` answering ``tools/call``)."""

    VERSION = "2025-11-25"

    def __init__(self, session: Any, url: str, headers: dict[str, str] | None = None, version: str = VERSION) -> None:
        self.session = session
        self.url = url
        self.version = version
        self.headers = {"Accept": "application/json, text/event-stream", **(headers or {})}
        self.next_id = 0

    async def initialize(self, capabilities: dict[str, Any]) -> dict[str, Any]:
        result = await self.result("initialize", {"protocolVersion": self.version, "capabilities": capabilities,
                                                  "clientInfo": {"name": "tasks-test", "version": "1"}})
        self.headers["MCP-Protocol-Version"] = self.version
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    async def send(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """POST one message; the answer (from JSON or the SSE stream), None for a notification."""
        import json

        async with self.session.post(self.url, json=message, headers=self.headers) as response:
            assert response.status in (200, 202), await response.text()
            if "mcp-session-id" in response.headers:
                self.headers["Mcp-Session-Id"] = response.headers["mcp-session-id"]
            text = await response.text()
        if "id" not in message:
            return None
        if response.content_type == "application/json":
            return json.loads(text)  # type: ignore[no-any-return]
        answers = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
        return next(answer for answer in answers if answer.get("id") == message["id"])

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole JSON-RPC answer (``result`` or ``error``)."""
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        answer = await self.send(message)
        assert answer is not None
        return answer

    async def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.call(method, params)
        assert "result" in answer, answer
        return answer["result"]  # type: ignore[no-any-return]


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error is True
    text = result.content[0].text
    body = json.loads(text)
    assert set(body) == {"error"}
    assert set(body["error"]) >= {"code", "message", "retryable", "provider", "param", "retry_after"}
    assert result.structured_content is None  # errors carry no structured content
    return body["error"]


@asynccontextmanager
async def serve_stdio(tmp_path: Path, extra_env: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """The server as a child process (stopped when the client closes), entered in the test's task;
    ``extra_env`` adds settings (e.g. a provider's key and base URL)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("STORAGE__", "GATEWAY__", "MCP__", "INPUT__", "PROVIDERS__"))}
    env.update(STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"),
               MCP__PREVIEW_MAX_BYTES="4096", INPUT__ALLOWED_ROOTS=str(tmp_path), **(extra_env or {}))
    params = StdioServerParameters(
        command=sys.executable, args=["-c", "from imagegate.cli import main; main()", "serve", "mcp"], env=env)
    async with Client(params, mode="legacy") as client:
        yield client
