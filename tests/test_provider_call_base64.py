"""``ProviderCall.keep_base64``: providers learn whether the caller answers base64."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagegate.testing import FakeSleep

from .pipeline_support import REQUEST, Scripted, make


@pytest.mark.parametrize("keep", [None, False, True], ids=["default", "false", "true"])
async def test_providers_see_whether_the_caller_keeps_base64(tmp_path: Path, keep: bool | None) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    try:
        if keep is None:
            await gateway.run("generate", REQUEST)
        else:
            await gateway.run("generate", REQUEST, keep_base64=keep)
    finally:
        await gateway.aclose()
    assert [call.keep_base64 for call in provider.calls] == [keep is True]
