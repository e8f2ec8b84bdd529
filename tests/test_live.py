"""Opt-in live tests: one cheapest real call per provider whose key is set (``pytest -m live``).

The ``live`` marker is deselected by default (``addopts`` in the root pyproject), so ``make test``
never spends money or needs the internet. Each call is the provider's cheapest priced model at its
smallest size and lowest quality, as the catalog prices it; the normal tests below keep that claim
(and the README's figures) true, and check the live tests skip, naming the variables, without keys.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from imagegate._gateway import Gateway, open_gateway
from imagegate._models import ImageRequest
from imagegate._plugins import make_plugin_manager
from imagegate.testing import temp_settings

REPO = Path(__file__).resolve().parents[1]
PROMPT = "a small red circle on a white background"


@dataclass(frozen=True)
class LiveCall:
    """The cheapest real call of one provider, and the variables any of which holds its key."""

    provider: str
    keys: tuple[str, ...]
    model: str
    size: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def request(self) -> ImageRequest:
        return ImageRequest(prompt=PROMPT, model=self.model, size=self.size, params=self.params)


LIVE_CALLS = [
    LiveCall("openai", ("PROVIDERS__OPENAI__API_KEY", "OPENAI_API_KEY"), "gpt-image-2", "1024x1024",
             {"quality": "low"}),
    LiveCall("replicate", ("PROVIDERS__REPLICATE__API_TOKEN", "REPLICATE_API_TOKEN"), "flux-2-klein-4b"),
    LiveCall("gemini", ("PROVIDERS__GEMINI__API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"),
             "gemini-nano-banana-2.1", params={"image_size": "512", "response_modalities": "IMAGE"}),
]
README_COST = re.compile(r"`(?P<model>[\w.-]+)`[^`]*?≈ \$(?P<usd>\d+(?:\.\d+)?)")


@pytest.mark.live
@pytest.mark.timeout(300)
@pytest.mark.parametrize("call", LIVE_CALLS, ids=[call.provider for call in LIVE_CALLS])
async def test_live_call(call: LiveCall, tmp_path: Path) -> None:
    if not any(os.environ.get(name) for name in call.keys):
        pytest.skip(f"no {call.provider} key: set {' or '.join(call.keys)} to run this live call")
    from PIL import Image

    async with open_gateway(temp_settings(tmp_path)) as gateway:
        result = await gateway.generate(call.request())
        assert result.provider == call.provider and result.images
        data = await gateway.read(result.images[0].id)
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.width > 0 and picture.height > 0


# the normal tests that keep the live ones honest -------------------------------------------------


@pytest.fixture
async def catalog(tmp_path: Path) -> Any:
    gateway = Gateway(temp_settings(tmp_path), make_plugin_manager())
    try:
        yield gateway
    finally:
        await gateway.aclose()


async def _usd(gateway: Gateway, request: ImageRequest) -> float | None:
    estimate = await gateway.estimate("generate", request)
    usd = estimate["cost"]["estimated_usd"]
    return None if usd is None else float(usd)


@pytest.mark.parametrize("call", LIVE_CALLS, ids=[call.provider for call in LIVE_CALLS])
async def test_each_live_call_is_its_providers_cheapest_priced_model(catalog: Gateway, call: LiveCall) -> None:
    """No other current model of the provider is cheaper, asked the same way where it takes the
    same size and parameters, else at its defaults (a model without a price cannot be promised
    cheap, so it is never the live call)."""
    from imagegate._errors import InvalidRequest

    chosen = await _usd(catalog, call.request())
    assert chosen is not None and chosen > 0
    for spec in catalog.models():
        if spec.provider != call.provider or spec.status != "active" or "generate" not in spec.operations:
            continue
        try:
            other = await _usd(catalog, call.request().model_copy(update={"model": spec.id}))
        except InvalidRequest:
            other = await _usd(catalog, ImageRequest(prompt=PROMPT, model=spec.id))
        # within 1%: models of one price differ only in what the prompt's tokens cost
        assert other is None or other >= chosen * 0.99, f"{spec.id} costs {other} < {chosen}"


async def test_the_readme_states_what_a_live_run_costs(catalog: Gateway) -> None:
    text = (REPO / "README.md").read_text()
    stated = {m["model"]: float(m["usd"]) for m in README_COST.finditer(text[text.index("pytest -m live"):])}
    for call in LIVE_CALLS:
        assert stated.get(call.model) == pytest.approx(await _usd(catalog, call.request()), abs=5e-4), call.model


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    keys = {name for call in LIVE_CALLS for name in call.keys}
    env = {k: v for k, v in os.environ.items() if k not in keys and not k.startswith("PROVIDERS__")}
    return subprocess.run([sys.executable, "-m", "pytest", "tests/test_live.py", "-q", "-rs", "-p", "no:cacheprovider",
                           *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_live_tests_are_deselected_by_default() -> None:
    done = _pytest("--collect-only")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_live_call" not in done.stdout
    assert f"{len(LIVE_CALLS)} deselected" in done.stdout


def test_live_tests_skip_naming_the_key_when_none_is_set() -> None:
    done = _pytest("-m", "live")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(LIVE_CALLS)} skipped" in done.stdout and "passed" not in done.stdout
    for call in LIVE_CALLS:
        assert f"no {call.provider} key: set {' or '.join(call.keys)}" in done.stdout
