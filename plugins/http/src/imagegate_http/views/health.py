"""``/healthz`` (the process answers) and ``/readyz`` (plugins loaded, storage writable)."""

from __future__ import annotations

from aiohttp import web

from imagegate import ImagegateError
from imagegate.frontend import load_failures

from ..envelope import json_response
from ..keys import GATEWAY

__all__ = ["healthz", "readyz"]


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: always 200 while the server runs."""
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz: 200 when storage is writable, else 503; plugin load failures are listed.

    A plugin that failed to import is reported (it is switched off, the rest work) but does not
    make the gateway unready: the models of the other plugins are served.
    """
    gateway = request.app[GATEWAY]
    checks: dict[str, str] = {}
    try:
        await gateway.storage.check_writable()
        checks["storage"] = "ok"
    except ImagegateError as exc:
        checks["storage"] = exc.message
    plugin_errors = [{"name": info.name, "error": info.error} for info in load_failures(gateway.pm)]
    ready = checks["storage"] == "ok"
    body = {"status": "ready" if ready else "unready", "storage_backend": gateway.storage.name,
            "checks": checks, "plugin_errors": plugin_errors, "models": len(gateway.models())}
    return json_response(body, 200 if ready else 503)
