"""Running the app: ``imagegate serve http``.

The socket is bound first so the real port is known (``--port 0`` works) and, when
``GATEWAY__PUBLIC_URL`` is unset, the public URL becomes ``http://HOST:PORT`` of this server, so
``response_format=url`` answers links that work. aiohttp's runner handles SIGTERM and SIGINT: it
stops accepting, lets requests in flight finish (up to ``GATEWAY__SHUTDOWN_TIMEOUT_S``), then the
app's ``cleanup_ctx`` closes the gateway (which finishes paid-for work) and the process exits 0.

A connection must send a complete request head within ``GATEWAY__HEADER_TIMEOUT_S`` (and may stay
idle between requests that long): aiohttp arms its keep-alive timer when a connection is made and
again after each answer, and closes the connection if the timer fires while it still waits for a
request head, so a client trickling header bytes (slowloris) is cut off. A request whose head has
arrived is never cut by it.

aiohttp's access line (logger ``imagegate.http.access``) is written only with
``LOGGING__LEVEL=DEBUG``: the observability plugin already logs one JSON event per request, and
formatting the line cost every request.
"""

from __future__ import annotations

import logging
import socket
import sys

from aiohttp import web

from imagegate import ImagegateError

__all__ = ["access_logger", "bind", "public_url_for", "serve_http"]


def access_logger(level: str) -> logging.Logger | None:
    """aiohttp's access logger: only when debugging (None turns the access line off)."""
    return logging.getLogger("imagegate.http.access") if level == "DEBUG" else None


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family, backlog=128)


def public_url_for(host: str, port: int) -> str:
    """The base URL clients on this machine reach the server at."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def serve_http(host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT; exit status 1 with the error on bad configuration."""
    from imagegate.cli import fail
    from imagegate import Gateway
    from imagegate.frontend import configure_logging, make_plugin_manager
    from imagegate import Settings

    from .app import create_app
    from .options import HttpOptions

    try:
        settings = Settings()
        configure_logging(settings)
        sock = bind(host, port)
        actual_port = sock.getsockname()[1]
        if not settings.gateway.public_url:
            settings.gateway.public_url = public_url_for(host, actual_port)
        gateway = Gateway(settings, make_plugin_manager())
        options = HttpOptions.from_settings(settings)
        app = create_app(gateway, options=options, open_on_startup=True)
    except ImagegateError as exc:
        fail(exc.to_dict(), as_json=False)
    except OSError as exc:
        print(f"imagegate serve http: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"imagegate HTTP on {public_url_for(host, actual_port)} (OpenAI base_url: "
          f"{public_url_for(host, actual_port)}/v1)", flush=True)
    web.run_app(app, sock=sock, shutdown_timeout=options.shutdown_timeout_s, print=None,
                keepalive_timeout=options.header_timeout_s, access_log=access_logger(settings.logging.level))
