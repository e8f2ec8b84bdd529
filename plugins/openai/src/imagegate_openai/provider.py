"""The ``openai`` provider: readiness, model resolution, and one upstream attempt per call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagegate import AuthenticationError, BaseProvider

from .catalog import PROVIDER, responses_mainline, responses_model
from .settings import KEY_VARIABLE

if TYPE_CHECKING:
    import aiohttp

    from imagegate import ModelSpec, ProviderCall, ProviderResult, UpstreamModel

    from .settings import OpenAISettings

__all__ = ["OpenAIProvider"]


class OpenAIProvider(BaseProvider):
    """Images API and Responses API behind one provider.

    Not cancellable: once a request is sent it is paid for, so the gateway finishes and stores it
    even when the caller goes away.
    """

    name = PROVIDER
    cancellable = False

    def __init__(self, settings: OpenAISettings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"OpenAIProvider(base_url={self.settings.base_url!r})"

    def check_ready(self, model: ModelSpec) -> None:
        if not self.settings.key():
            msg = (f"{model.id} needs an OpenAI API key: set {KEY_VARIABLE} "
                   f"(or {self.settings.key_env_var})")
            raise AuthenticationError(msg, provider=PROVIDER, param=KEY_VARIABLE)

    async def resolve(self, model_id: str, session: aiohttp.ClientSession) -> ModelSpec | None:
        """Any ``responses/<model>`` id, e.g. ``responses/gpt-5``."""
        mainline = responses_mainline(model_id)
        return responses_model(mainline) if mainline else None

    async def list_upstream_models(self, session: aiohttp.ClientSession) -> list[UpstreamModel]:
        """``GET /models``: each model's id and ``shutdown_date`` (``openai.types.Model``)."""
        from .transport import parse_json
        from .upstream_errors import error_from_response

        headers = {"Authorization": f"Bearer {self.settings.key() or ''}"}
        if self.settings.organization:
            headers["OpenAI-Organization"] = self.settings.organization
        if self.settings.project:
            headers["OpenAI-Project"] = self.settings.project
        async with session.get(f"{self.settings.base_url}/models", headers=headers) as response:
            body = await response.read()
            if response.status >= 300:
                raise error_from_response(response.status, body, response.headers, key=self.settings.key())
        listed = parse_json(body, "the model list").get("data")
        return [{"id": str(item["id"]), "shutdown_date": item.get("shutdown_date")}
                for item in listed if isinstance(item, dict) and item.get("id")] if isinstance(listed, list) else []

    async def run(self, call: ProviderCall) -> ProviderResult:
        if call.model.api == "responses":
            from .responses_api import run_responses

            return await run_responses(call, self.settings)
        from .images_api import run_images

        return await run_images(call, self.settings)
