"""Running ``imagegate serve mcp``: logging to stderr, then the chosen transport.

On stdio the wire is taken first (:class:`~imagegate_mcp.early.EarlyStdio`), so ``initialize`` is
answered while the settings, the MCP SDK and the plugins load.
"""

from __future__ import annotations


def run(transport: str, host: str, port: int) -> None:
    """Serve until the client disconnects (stdio) or the process is interrupted (HTTP)."""
    from .early import EarlyStdio

    early = EarlyStdio.start() if transport == "stdio" else None

    import asyncio

    from imagegate.cli import fail
    from imagegate import ImagegateError
    from imagegate.frontend import configure_logging
    from imagegate import Settings

    from .transport import serve_http, serve_stdio

    try:
        settings = Settings()
        configure_logging(settings)
        if transport == "stdio":
            asyncio.run(serve_stdio(settings, early))
        else:
            asyncio.run(serve_http(host, port, settings))
    except ImagegateError as exc:
        fail(exc.to_dict(), as_json=False)
    except KeyboardInterrupt:
        pass
