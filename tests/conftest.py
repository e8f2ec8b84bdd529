"""Core tests: fixtures come from the ``imagegate.testing`` pytest plugin; the few more live here.
Helpers tests import come from ``imagegate.testing`` (e.g. ``image_bytes``), never from here."""

from __future__ import annotations

import pytest

from imagegate.testing import image_bytes


@pytest.fixture
def png() -> bytes:
    return image_bytes()
