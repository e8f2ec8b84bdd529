"""Core tests: fixtures come from the ``imagegate.testing`` pytest plugin; helpers live here."""

from __future__ import annotations

import io

import pytest


def png_bytes(width: int = 64, height: int = 64, color: tuple[int, int, int, int] = (200, 30, 30, 255)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def png() -> bytes:
    return png_bytes()
