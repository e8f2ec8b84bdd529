"""Helpers for tests that drive this front-end (also used by cross-plugin suites).

:func:`serve_streamable_http` runs the streamable-HTTP app for a gateway on a free 127.0.0.1 port
in the current event loop and always stops it. Not an entry point; import it only in tests.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imagegate import Gateway

__all__ = ["serve_streamable_http"]


@asynccontextmanager
async def serve_streamable_http(gateway: Gateway) -> AsyncIterator[str]:
    """Serve ``gateway`` over streamable HTTP; yields ``http://127.0.0.1:<port>/mcp``."""
    import uvicorn

    from .transport import http_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = http_app(gateway, base_url=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(10):
                await task
        except TimeoutError:
            task.cancel()
        sock.close()
