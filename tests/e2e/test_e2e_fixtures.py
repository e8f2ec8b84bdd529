"""The e2e fixtures themselves: a gateway configured only by the environment reaches the fakes."""

from __future__ import annotations

from typing import Any

from imagegate import ImageRequest


async def test_env_gateway_reaches_both_fakes(env_gateway: Any, upstream_env: dict[str, str],
                                              fake_openai: Any, fake_replicate: Any) -> None:
    gateway = await env_gateway(upstream_env)
    openai = await gateway.run("generate", ImageRequest(prompt="a fox", model="gpt-image-2.6-sunburst", size="1024x1024"))
    flux = await gateway.run("generate", ImageRequest(prompt="a fox", model="flux-dev"))
    assert fake_openai.call_count == 1 and fake_openai.schema_errors == []
    assert len(fake_replicate.creates) == 1 and fake_replicate.schema_errors == []
    assert openai.images[0].mime_type == "image/png" and openai.provider == "openai"
    assert flux.provider == "replicate" and flux.images[0].bytes > 0
