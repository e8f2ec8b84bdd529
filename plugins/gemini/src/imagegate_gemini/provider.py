"""The ``gemini`` provider: readiness, one ``generateContent`` attempt per call, and the model list."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from imagegate import AuthenticationError, BaseProvider

from .answers import parse_answer
from .catalog import PROVIDER
from .request_body import encoded_body
from .settings import KEY_FALLBACKS, KEY_VARIABLE
from .upstream_errors import error_from_response

if TYPE_CHECKING:
    import aiohttp

    from imagegate import ModelSpec, ProviderCall, ProviderResult

    from .settings import GeminiSettings

__all__ = ["GeminiProvider"]

_LIST_PAGE_SIZE = 1000


class GeminiProvider(BaseProvider):
    """Gemini API image models. The key travels in ``x-goog-api-key``, never in a URL.

    Not cancellable: a sent request is billed, so the gateway finishes and stores it even when the
    caller goes away.
    """

    name = PROVIDER
    cancellable = False

    def __init__(self, settings: GeminiSettings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"GeminiProvider(base_url={self.settings.base_url!r})"

    def check_ready(self, model: ModelSpec) -> None:
        if not self.settings.key():
            msg = f"{model.id} needs a Gemini API key: set {KEY_VARIABLE} (or {' or '.join(KEY_FALLBACKS)})"
            raise AuthenticationError(msg, provider=PROVIDER, param=KEY_VARIABLE)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**(extra or {}), "x-goog-api-key": self.settings.key() or "",
                "Content-Type": "application/json"}

    async def run(self, call: ProviderCall) -> ProviderResult:
        what = f"{call.model.id} {call.operation}"
        url = f"{self.settings.base_url}/models/{call.model.upstream}:generateContent"
        body = await encoded_body(call)
        async with call.session.post(url, data=body, headers=self._headers(call.headers)) as response:
            answer = await response.read()
            if response.status >= 300:
                raise error_from_response(response.status, answer, response.headers, key=self.settings.key())
        return await asyncio.to_thread(parse_answer, answer, what, seed=call.params.get("seed"))

    async def list_upstream_models(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        """Every model the key may call (``GET /models``, all pages); image models told by their name."""
        models: list[dict[str, Any]] = []
        token = ""
        while True:
            query = {"pageSize": str(_LIST_PAGE_SIZE), **({"pageToken": token} if token else {})}
            async with session.get(f"{self.settings.base_url}/models", params=query,
                                   headers=self._headers()) as response:
                answer = await response.read()
                if response.status >= 300:
                    raise error_from_response(response.status, answer, response.headers,
                                              key=self.settings.key())
            page = await asyncio.to_thread(parse_listing, answer)
            models.extend(page["models"])
            token = page["next"]
            if not token:
                return models


def parse_listing(body: bytes) -> dict[str, Any]:
    """One page of ``GET /models``: ``{"models": [{"id", "shutdown_date", "image"}], "next": token}``."""
    import orjson

    payload = orjson.loads(body)
    models = []
    for item in payload.get("models", []):
        model_id = str(item.get("name", "")).removeprefix("models/")
        methods = item.get("supportedGenerationMethods") or []
        named = "image" in model_id or "banana" in model_id  # the listing has no output modalities
        image = named and "generateContent" in methods
        models.append({"id": model_id, "shutdown_date": None, "image": image})
    return {"models": models, "next": payload.get("nextPageToken") or ""}
