"""The default install exports spans over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, and
its stderr stays one JSON stream: the OpenTelemetry SDK's own complaints come as JSON lines too."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass
class Collector:
    """A loopback OTLP/HTTP traces endpoint; it refuses the first batch (as a collector may) and
    accepts the next ones."""

    url: str = ""
    batches: list[ExportTraceServiceRequest] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    refused: int = 0
    accepted: asyncio.Event = field(default_factory=asyncio.Event)

    async def traces(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.content_types.append(request.content_type)
        if not self.refused:
            self.refused += 1
            return web.Response(status=400, text="collector refuses this batch")
        self.batches.append(ExportTraceServiceRequest.FromString(body))
        self.accepted.set()
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    def span_names(self) -> set[str]:
        return {span.name for batch in self.batches for resource in batch.resource_spans
                for scope in resource.scope_spans for span in scope.spans}

    def service_names(self) -> set[str]:
        return {attribute.value.string_value for batch in self.batches for resource in batch.resource_spans
                for attribute in resource.resource.attributes if attribute.key == "service.name"}


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    found = Collector()
    app = web.Application()
    app.router.add_post("/v1/traces", found.traces)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield found
    await runner.cleanup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError(f"server exited with {process.returncode}")
            try:
                async with session.get(f"{url}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("server not healthy")


async def test_server_exports_spans_over_otlp_http_and_logs_only_json(collector: Collector, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "IMAGEGATE_", "STORAGE__", "GATEWAY__", "LOGGING__", "OBSERVABILITY__"))}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=collector.url, OTEL_BSP_SCHEDULE_DELAY="50",
               STORAGE__LOCAL__ROOT=str(tmp_path / "images"), STORAGE__SPOOL_DIR=str(tmp_path / "spool"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from imagegate.cli import main; main()", "serve", "http", "--port", str(port),
            env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=stderr)
    try:
        await wait_healthy(url, process)
        async with aiohttp.ClientSession() as session:
            for prompt in ("refused batch", "accepted batch"):
                async with session.post(f"{url}/v1/images/generations",
                                        json={"model": "placeholder", "prompt": prompt, "size": "64x64"}) as answer:
                    assert answer.status == 200
                if prompt == "refused batch":
                    for _ in range(200):  # the first export is refused before the second request
                        if collector.refused:
                            break
                        await asyncio.sleep(0.05)
        await asyncio.wait_for(collector.accepted.wait(), 30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 60) == 0
    assert collector.content_types[0] == "application/x-protobuf"
    assert "imagegate.request" in collector.span_names()
    assert collector.service_names() == {"imagegate"}
    lines = [line for line in stderr_path.read_text().splitlines() if line.strip()]
    documents = [json.loads(line) for line in lines]  # every line is JSON
    loggers = {document["logger"] for document in documents}
    assert "imagegate.requests" in loggers
    refusal = [d for d in documents if d["logger"].startswith("opentelemetry") and "400" in d["message"]]
    assert refusal and refusal[0]["level"] == "ERROR"
