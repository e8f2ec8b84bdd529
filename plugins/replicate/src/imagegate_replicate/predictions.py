"""One prediction from creation to a final state, cancelled upstream if it is abandoned.

Fast models are created with ``Prefer: wait`` and usually come back finished; otherwise (or when
the wait ran out) the prediction is polled with exponential back-off. ``Cancel-After`` carries the
gateway's deadline, so Replicate stops the prediction on its own even if this process dies; and if
the attempt is abandoned while the prediction runs (the caller went away, the deadline passed, a
poll failed for good), ``urls.cancel`` is posted, shielded, before the exception goes on. Nothing
keeps running and costing money for nobody.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from imagegate import ImagegateError, UpstreamError

from .errors import error_from_prediction

if TYPE_CHECKING:
    from imagegate import ProviderCall

    from .api import ReplicateAPI

__all__ = ["TERMINAL", "PredictionRun", "cancel_after"]

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
_MAX_WAIT_S = 60
_MIN_CANCEL_AFTER_S = 5
_POLL_ERRORS_TOLERATED = 3


def cancel_after(remaining_s: float) -> str:
    """The ``Cancel-After`` value for the time left (Replicate's minimum is 5 s)."""
    return f"{max(_MIN_CANCEL_AFTER_S, math.ceil(remaining_s))}s"


class PredictionRun:
    """Creates, follows and (if abandoned) cancels one prediction."""

    def __init__(self, api: ReplicateAPI, call: ProviderCall, background: set[asyncio.Task[Any]]) -> None:
        self.api = api
        self.call = call
        self.prediction: dict[str, Any] | None = None
        self._background = background
        self._status: str | None = None

    def _seen(self, prediction: dict[str, Any]) -> None:
        if not isinstance(prediction.get("id"), str):
            msg = "Replicate answered without a prediction id"
            raise UpstreamError(msg)
        if self.prediction is None:
            self.call.record_upstream({"prediction": {"id": prediction["id"], "urls": prediction.get("urls")}})
        self.prediction = prediction
        status = prediction.get("status")
        if status != self._status:
            self._status = status
            self.call.progress("status", {"status": status, "prediction_id": prediction["id"]})

    @property
    def running(self) -> bool:
        return self.prediction is not None and self.prediction.get("status") not in TERMINAL

    async def run(self, model_input: dict[str, Any]) -> dict[str, Any]:
        """The succeeded prediction; raise the mapped error for any other end."""
        spec = self.call.model
        remaining = self.call.remaining()
        wanted = spec.options.get("prefer_wait")
        prefer_wait = max(1, min(_MAX_WAIT_S, int(wanted), int(remaining))) if wanted else None
        try:
            self._seen(await self.api.create(
                spec.upstream.partition(":")[0], spec.options.get("version"), model_input,
                prefer_wait=prefer_wait, cancel_after=cancel_after(remaining)))
            await self._follow()
        except BaseException:
            if self.running:
                await self._cancel()
            raise
        assert self.prediction is not None
        if self.prediction.get("status") != "succeeded":
            raise error_from_prediction(self.prediction)
        return self.prediction

    async def resume(self, prediction: dict[str, Any]) -> dict[str, Any]:
        """Follow a prediction created before a restart (``{"id", "urls"}``) to its end."""
        self.prediction = {**prediction, "status": "starting"}
        try:
            await self._follow()
        except BaseException:
            if self.running:
                await self._cancel()
            raise
        if self.prediction.get("status") != "succeeded":
            raise error_from_prediction(self.prediction)
        return self.prediction

    async def _follow(self) -> None:
        import aiohttp

        config = self.api.config
        delay = config.poll_interval_s
        failures = 0
        while self.running:
            await asyncio.sleep(min(delay, max(0.0, self.call.remaining())))
            delay = min(delay * 1.5, config.poll_max_interval_s)
            assert self.prediction is not None
            try:
                self._seen(await self.api.get(self.prediction))
            except (ImagegateError, aiohttp.ClientConnectionError) as exc:
                failures += 1
                if not getattr(exc, "retryable", True) or failures > _POLL_ERRORS_TOLERATED:
                    raise
            else:
                failures = 0

    async def _cancel(self) -> None:
        """Post the cancel, shielded, so a second cancellation cannot interrupt it."""
        assert self.prediction is not None
        task = asyncio.ensure_future(self.api.cancel(self.prediction))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        self.call.progress("status", {"status": "cancelling", "prediction_id": self.prediction["id"]})
        await asyncio.shield(task)
