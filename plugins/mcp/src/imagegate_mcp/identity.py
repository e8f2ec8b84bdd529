"""Who the server says it is: name, title, version and instructions (``serverInfo`` of ``initialize``).

Its own module, importing nothing, so the early ``initialize`` answer needs neither asyncio nor the SDK.
"""

from __future__ import annotations

__all__ = ["INSTRUCTIONS", "SERVER_NAME", "SERVER_TITLE", "server_version"]

SERVER_NAME = SERVER_TITLE = "imagegate"

INSTRUCTIONS = (
    "imagegate generates and edits images with many models. Call list_available_models to choose a model "
    "(describe_model gives one model's full arguments), "
    "then generate_image (a model's own options go in params) or a per-model tool, edit_image or "
    "create_variation. "
    "Each result lists stored image ids and imagegate://images/{id} URIs (readable with resources/read); "
    "pass deliver=preview to see a small version or deliver=full for the image itself. Errors are JSON "
    '{"error": {"code", "message", "retryable", "provider", "param", "retry_after"}}: fix param, wait '
    "retry_after seconds, or switch model."
)


def server_version() -> str:
    """The ``serverInfo`` version: imagegate-mcp's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("imagegate-mcp")
    except PackageNotFoundError:
        return "0"
