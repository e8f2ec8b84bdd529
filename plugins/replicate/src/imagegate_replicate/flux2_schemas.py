"""The FLUX.2 input schemas shipped with the plugin (``flux2_input_schemas.json``).

Source: the project's research file ``specs/2026/replicate-flux2-2026.input-schemas.json`` of
2026-12-04, copied unchanged. Its ``$comment`` says how it was made: the schemas are
*reconstructed* from Replicate's model pages (``api/learn-more``, version pages) with some enum
lists from third-party transcriptions, not read from ``GET /v1/models/{owner}/{name}``. The
catalog builds its FLUX.2 entries from them and :mod:`imagegate_replicate.testing` serves them as
``latest_version.openapi_schema``; any model named as ``replicate/owner/name`` that the catalog
does not list is checked against the schema Replicate itself serves.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["SCHEMAS_FILE", "as_openapi", "flux2_input_schemas"]

SCHEMAS_FILE = "flux2_input_schemas.json"


@functools.cache
def _load() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath(SCHEMAS_FILE).read_text(encoding="utf-8"))


def flux2_input_schemas() -> dict[str, dict[str, Any]]:
    """``owner/name`` -> that model's input schema (JSON Schema; shared, do not modify)."""
    return {name: schema for name, schema in _load().items() if not name.startswith("$")}


def as_openapi(input_schema: dict[str, Any]) -> dict[str, Any]:
    """A minimal ``openapi_schema`` holding ``input_schema`` as ``components.schemas.Input``."""
    return {"components": {"schemas": {"Input": input_schema}}}
