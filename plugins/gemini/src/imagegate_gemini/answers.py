"""Reading a ``generateContent`` answer: the images, the model's words beside them, usage, refusals.

A blocked prompt (``promptFeedback.blockReason``) and a withheld image (a candidate's
``finishReason`` such as ``IMAGE_SAFETY``) are :class:`~imagegate.ContentFiltered` naming the stage
and the reason; an answer with no image part for any other reason is an
:class:`~imagegate.UpstreamError` that says so (not retried: the attempt was billed). Text parts
become each image's ``revised_prompt``; ``thought`` parts are the model's reasoning and are dropped.
"""

from __future__ import annotations

from typing import Any

import orjson
import pybase64

from imagegate import ContentFiltered, ProviderImage, ProviderResult, UpstreamError, Usage

from .catalog import PROVIDER

__all__ = ["FILTERED_FINISH_REASONS", "parse_answer", "usage_from"]

FILTERED_FINISH_REASONS = frozenset({
    "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
})
_MAX_TEXT = 300


def _parse_json(body: bytes, what: str) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        msg = f"Gemini answered {what} with malformed JSON ({len(body)} bytes)"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False) from None
    if not isinstance(parsed, dict):
        msg = f"Gemini answered {what} with JSON that is not an object"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False)
    return parsed


def _tokens(details: Any, modality: str) -> int | None:
    if not isinstance(details, list):
        return None
    return sum(int(d.get("tokenCount") or 0) for d in details
               if isinstance(d, dict) and d.get("modality") == modality)


def usage_from(metadata: Any) -> Usage | None:
    """Tokens from ``usageMetadata``; per-modality details when sent, else prompt as text, output as image.

    Thinking tokens are billed as text output.
    """
    if not isinstance(metadata, dict):
        return None
    prompt = int(metadata.get("promptTokenCount") or 0)
    output = int(metadata.get("candidatesTokenCount") or 0)
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    prompt_images = _tokens(metadata.get("promptTokensDetails"), "IMAGE")
    output_images = _tokens(metadata.get("candidatesTokensDetails"), "IMAGE")
    input_image = prompt_images or 0
    output_image = output if output_images is None else output_images
    return Usage(input_text_tokens=prompt - input_image, input_image_tokens=input_image,
                 output_image_tokens=output_image, output_text_tokens=output - output_image + thoughts)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def _candidate_parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _refusal(payload: dict[str, Any], reasons: list[str], said: str, what: str) -> Exception:
    feedback = payload.get("promptFeedback")
    block = feedback.get("blockReason") if isinstance(feedback, dict) else None
    note = f"; the model said: {_short(said)}" if said else ""
    if block:
        message = feedback.get("blockReasonMessage") or ""
        detail = f" ({_short(str(message))})" if message else ""
        msg = f"Gemini blocked the prompt (stage: prompt, reason: {block}){detail} for {what}"
        return ContentFiltered(msg, provider=PROVIDER, param="prompt")
    filtered = [r for r in reasons if r in FILTERED_FINISH_REASONS]
    if filtered:
        msg = f"Gemini withheld the image (stage: output, reason: {filtered[0]}) for {what}{note}"
        return ContentFiltered(msg, provider=PROVIDER)
    why = f" (finishReason {', '.join(reasons)})" if reasons else ""
    msg = f"Gemini answered {what} without any image{why}{note}"
    return UpstreamError(msg, provider=PROVIDER, retryable=False)


def _decode(data: Any, what: str) -> bytes:
    try:
        return pybase64.b64decode(data, validate=True)
    except (ValueError, TypeError):
        msg = f"Gemini answered {what} with image data that is not base64"
        raise UpstreamError(msg, provider=PROVIDER, retryable=False) from None


def parse_answer(body: bytes, what: str, *, seed: int | None = None) -> ProviderResult:
    """Images, notes and usage of a 2xx ``generateContent`` body (run it off the event loop)."""
    payload = _parse_json(body, what)
    images: list[tuple[bytes, str | None]] = []
    texts: list[str] = []
    reasons: list[str] = []
    candidates = payload.get("candidates")
    for candidate in candidates if isinstance(candidates, list) else []:
        if not isinstance(candidate, dict):
            continue
        if candidate.get("finishReason"):
            reasons.append(str(candidate["finishReason"]))
        for part in _candidate_parts(candidate):
            inline = part.get("inlineData")
            if isinstance(inline, dict) and str(inline.get("mimeType", "")).startswith("image/"):
                images.append((_decode(inline.get("data"), what), inline.get("mimeType")))
            elif isinstance(part.get("text"), str) and not part.get("thought"):
                texts.append(part["text"].strip())
    said = "\n".join(t for t in texts if t)
    if not images:
        raise _refusal(payload, reasons, said, what)
    return ProviderResult(
        images=[ProviderImage(data=data, mime_type=mime, revised_prompt=said or None, seed=seed)
                for data, mime in images],
        usage=usage_from(payload.get("usageMetadata")),
        provider_request_id=payload.get("responseId"),
        model_version=payload.get("modelVersion"),
    )
