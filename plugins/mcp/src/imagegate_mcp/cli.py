"""Running ``imagegate serve mcp``: logging to stderr, then the chosen transport."""

from __future__ import annotations

import asyncio
import logging
import sys


def run(transport: str, host: str, port: int) -> None:
    """Serve until the client disconnects (stdio) or the process is interrupted (HTTP)."""
    import click
    from imagegate.errors import ImagegateError
    from imagegate.settings import Settings

    from .transport import serve_http, serve_stdio

    try:
        settings = Settings()
        logging.basicConfig(stream=sys.stderr, level=settings.logging.level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if transport == "stdio":
            asyncio.run(serve_stdio(settings))
        else:
            asyncio.run(serve_http(host, port, settings))
    except ImagegateError as exc:
        click.echo(f"error: {exc.code}: {exc.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
