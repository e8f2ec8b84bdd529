"""The ``transform_image`` tool: a resized, cropped, thumbnailed or converted copy of a stored image,
stored as a new image with ``parent_ids=[source]`` (the original is never changed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagegate import Gateway
    from mcp_types import CallToolResult

__all__ = ["TRANSFORM_TOOL", "call_transform", "transform_schema"]

TRANSFORM_TOOL = "transform_image"
DESCRIPTION = ("A new stored image from a stored one (the original is kept): resize (width/height, mode "
               "fit|fill), crop (left, top, width, height), thumbnail (size) or convert (format, quality).")

OUTPUT_SCHEMA: dict[str, Any] = {"type": "object", "required": ["images", "source"]}


def transform_schema() -> dict[str, Any]:
    """The tool's input schema, terse; the gateway checks each op's needs and names the parameter."""
    number = {"type": "integer", "minimum": 0}
    return {"type": "object", "required": ["image", "op"], "additionalProperties": False, "properties": {
        "image": {"type": "string", "description": "Stored image id"},
        "op": {"type": "string", "enum": ["resize", "crop", "thumbnail", "convert"]},
        **{name: number for name in ("width", "height", "left", "top", "size", "quality")},
        "mode": {"type": "string", "enum": ["fit", "fill"]},
        "format": {"type": "string", "enum": ["png", "jpeg", "webp"]},
    }}


async def call_transform(gateway: Gateway, arguments: dict[str, Any], *, with_paths: bool) -> CallToolResult:
    """Run a checked call; errors are raised for the caller to turn into an ``isError`` result."""
    from imagegate import InvalidRequest
    from imagegate.files import is_image_id
    from mcp_types import CallToolResult, TextContent
    from orjson import dumps

    args = dict(arguments)
    source, op = args.pop("image"), args.pop("op")
    if not is_image_id(source):
        raise InvalidRequest("image must be a stored image id (img_YYYYMMDD_...)", param="image")
    image = await gateway.transform(source, op, args, frontend="mcp")
    described = image.as_dict()
    if not with_paths:
        described["path"] = None
    body = {"images": [described], "source": source, "transform": {"op": op, **args}}
    return CallToolResult(content=[TextContent(text=dumps(body).decode())], structured_content=body)
