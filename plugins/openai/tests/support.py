"""What the OpenAI plugin's tests share besides fixtures (those live in conftest.py): the key and
URL the gateways use, and answers shaped as OpenAI sends them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagegate_openai.testing import SpecValidator

SPECS = Path(__file__).resolve().parents[3] / "specs"
API_KEY = "sk-test-SECRET-0123456789abcdef"
BASE_URL = "http://api.test/v1"


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
