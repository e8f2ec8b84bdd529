"""Fixtures for the OpenAI plugin's tests: the spec, a recording sleep, gateways and the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from imagegate_openai.testing import REQUEST_SCHEMAS, SPEC_FILE, FakeOpenAI, SpecValidator

SPECS = Path(__file__).resolve().parents[3] / "specs"
API_KEY = "sk-test-SECRET-0123456789abcdef"
BASE_URL = "http://api.test/v1"


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return SPECS / SPEC_FILE


@pytest.fixture(scope="session")
def validator(spec_path: Path) -> SpecValidator:
    return SpecValidator(spec_path)


class Sleeps:
    """Delays the gateway asked to sleep, without sleeping (not a list: an empty one is falsy,
    and the gateway takes a falsy ``sleep`` to mean asyncio.sleep)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def fake_sleep() -> Sleeps:
    return Sleeps()


GatewayFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def make_gateway(tmp_path: Path, fake_sleep: Sleeps) -> AsyncIterator[GatewayFactory]:
    """Build opened gateways with only the openai and storage-local plugins; closed afterwards."""
    import imagegate_storage_local

    import imagegate_openai
    from imagegate import Gateway, Settings
    from imagegate.plugins import make_plugin_manager

    opened: list[Any] = []

    async def build(base_url: str = BASE_URL, *, plugins: tuple[Any, ...] = (), **openai: Any) -> Any:
        pm = make_plugin_manager(entrypoints=False)
        pm.register(imagegate_openai, name="openai")
        pm.register(imagegate_storage_local, name="storage-local")
        for plugin in plugins:
            pm.register(plugin)
        section = {"api_key": API_KEY, "base_url": base_url, "max_retries": 1, **openai}
        settings = Settings(providers={"openai": section},
                            storage={"local": {"root": str(tmp_path / "images")},
                                     "spool_dir": str(tmp_path / "spool")})
        gateway = Gateway(settings, pm, sleep=fake_sleep)
        await gateway.open()
        opened.append(gateway)
        return gateway

    yield build
    for gateway in opened:
        await gateway.aclose()


@pytest.fixture(scope="session")
def request_schemas() -> Path:
    return SPECS / REQUEST_SCHEMAS


@pytest.fixture
async def fake(request_schemas: Path) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(request_schemas=request_schemas, api_key=API_KEY) as server:
        yield server


def b64_image(width: int = 64, height: int = 64, fmt: str = "png", seed: int = 0) -> str:
    import pybase64

    from imagegate_openai.testing import image_bytes

    return pybase64.b64encode(image_bytes(width, height, fmt, seed=seed)).decode()


def images_answer(validator: SpecValidator, count: int = 1, *, fmt: str | None = "png",
                  usage: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """An ImagesResponse as OpenAI sends it, checked against the spec."""
    answer: dict[str, Any] = {"created": 1713833628,
                              "data": [{"b64_json": b64_image(fmt=fmt or "png", seed=i)} for i in range(count)]}
    if fmt:
        answer["output_format"] = fmt
    if usage is not None:
        answer["usage"] = usage
    answer.update(extra)
    validator.check("ImagesResponse", answer)
    return answer


def gpt_usage(text: int = 10, image_in: int = 0, out: int = 272) -> dict[str, Any]:
    return {"input_tokens": text + image_in, "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
            "output_tokens": out, "total_tokens": text + image_in + out}


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
