"""Fixtures: a gateway with the placeholder provider, local storage and the test providers, served
by the real app on a free 127.0.0.1 port, and the official ``openai`` SDK pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .jobs_support import OPENAI_KEY, REPLICATE_TOKEN

SIGNING_KEY = "test-signing-key-0123456789"


@dataclass
class Served:
    base_url: str
    gateway: Any
    app: Any
    clients: list[Any] = field(default_factory=list)
    """The SDK clients handed out, closed with the server (an unclosed one is closed by the garbage
    collector later, logging an error into whichever test runs then)."""

    def client(self, api_key: str = "unused", **kwargs: Any) -> Any:
        import openai

        client = openai.AsyncOpenAI(base_url=self.base_url + "/v1", api_key=api_key, max_retries=0, **kwargs)
        self.clients.append(client)
        return client


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    folder = tmp_path / "gate"
    folder.mkdir()
    return folder


@pytest.fixture
async def serve(tmp_path: Path, gate: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Callable[..., Awaitable[Served]]]:
    """``await serve(gateway={...}, options={...}, public_url=True, providers={...})`` starts one
    server (``providers``: the ``providers`` settings, e.g. the base URL of a fake upstream)."""
    import imagegate_storage_local

    import imagegate_http.testing as http_testing
    from imagegate._gateway import Gateway
    from imagegate._plugins import make_plugin_manager
    from imagegate._settings import Settings
    from imagegate_http.app import create_app
    from imagegate_http.options import HttpOptions

    started: list[tuple[Any, Any, Served]] = []
    monkeypatch.setenv(http_testing.GATE_ENV, str(gate))

    async def start(gateway: dict[str, Any] | None = None, options: dict[str, Any] | None = None,
                    public_url: bool = True, plugins: list[tuple[Any, str]] | None = None,
                    providers: dict[str, Any] | None = None) -> Served:
        sock, base_url = http_testing.loopback_socket()
        pm = make_plugin_manager(entrypoints=False)
        pm.register(imagegate_storage_local, name="storage-local")
        pm.register(http_testing, name="http-testing")
        for plugin, name in plugins or []:
            pm.register(plugin, name=name)
        section = {"url_signing_key": SIGNING_KEY, **(gateway or {})}
        if public_url:
            section.setdefault("public_url", base_url)
        index = len(started)
        settings = Settings(storage={"local": {"root": str(tmp_path / f"images{index}")},
                                     "spool_dir": str(tmp_path / f"spool{index}")},
                            gateway=section, providers=providers or {})
        gw = Gateway(settings, pm)
        await gw.open()
        http_options = HttpOptions.from_settings(settings)
        if options:
            http_options = http_options.model_copy(update=options)
        app = create_app(gw, options=http_options)
        try:
            runner = await http_testing.start_app(app, sock)
        except BaseException:
            await gw.aclose()
            raise
        served = Served(base_url, gw, app)
        started.append((runner, gw, served))
        return served

    yield start
    for runner, gw, served in reversed(started):
        for client in served.clients:
            await client.close()
        await runner.cleanup()
        await gw.aclose()


@pytest.fixture
async def served(serve: Callable[..., Awaitable[Served]]) -> Served:
    return await serve()


CLI_CODE = (
    "import imagegate._plugins as plugins; "
    "plugins.BUILTIN_PLUGINS['http-testing'] = 'imagegate_http.testing'; "
    "from imagegate.cli import main; main()"
)


@dataclass
class CliServer:
    base_url: str
    process: Any


@pytest.fixture
def cli_server(tmp_path: Path, gate: Path) -> Any:
    """``start()`` runs ``imagegate serve http`` in a real subprocess on a free port (test
    providers added as built-ins); every process is killed at teardown if still running."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from imagegate_http.testing import GATE_ENV, loopback_socket

    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []

    def start(extra_env: dict[str, str] | None = None) -> CliServer:
        sock, base_url = loopback_socket()
        port = sock.getsockname()[1]
        sock.close()  # the child binds it again (SO_REUSEADDR); nothing else asks for this port
        env = {**os.environ, "STORAGE__LOCAL__ROOT": str(tmp_path / "cli-images"),
               "STORAGE__SPOOL_DIR": str(tmp_path / "cli-spool"), GATE_ENV: str(gate),
               "IMAGEGATE_DISABLE_PLUGINS": "openai,replicate,storage-s3,mcp", **(extra_env or {})}
        env.pop("GATEWAY__PUBLIC_URL", None)
        log_path = tmp_path / f"server-{len(processes)}.log"
        log = open(log_path, "wb")  # noqa: SIM115
        logs.append(log)
        process = subprocess.Popen([sys.executable, "-c", CLI_CODE, "serve", "http", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                msg = f"server exited with {process.returncode}: {log_path.read_text()}"
                raise AssertionError(msg)
            try:
                with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return CliServer(base_url, process)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    for log in logs:
        log.close()


@pytest.fixture
async def fake_openai() -> AsyncIterator[Any]:
    from imagegate_openai.testing import FakeOpenAI

    async with FakeOpenAI(api_key=OPENAI_KEY) as server:
        yield server


@pytest.fixture
async def fake_replicate() -> AsyncIterator[Any]:
    from imagegate_replicate.testing import FakeReplicate

    async with FakeReplicate(token=REPLICATE_TOKEN) as server:
        yield server
