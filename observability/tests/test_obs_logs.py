"""One JSON log event per request; prompts only when asked; never a key or base64 data, on the
failure paths too (in log lines, span attributes, span events and exported error statuses)."""

from __future__ import annotations

from typing import Any

import pytest

from imagegate._errors import StorageError, UpstreamError
from imagegate._models import ImageRequest
from imagegate._redact import REDACTED, Redactor

from .support import B64, GATEWAY_KEY, SECRET, FlakyProvider, request_log_lines, span_texts

FORBIDDEN = (SECRET, GATEWAY_KEY, B64[:64], B64[-64:])


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for forbidden in FORBIDDEN:
            assert forbidden not in text, f"leaked into {text[:120]!r}"


async def test_one_event_per_request_with_trace_ids(make_gateway: Any, spans: Any,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    gateway = await make_gateway()
    capsys.readouterr()
    result = await gateway.run(
        "generate", ImageRequest(prompt="a secret garden", model="placeholder", size="64x64",
                                 params={"seed": 7}), frontend="cli")
    events = request_log_lines(capsys.readouterr().err)
    assert len(events) == 1
    event = events[0]
    request = next(s for s in spans.get_finished_spans() if s.name == "imagegate.request")
    assert event["trace_id"] == format(request.context.trace_id, "032x")
    assert event["span_id"] == format(request.context.span_id, "016x")
    assert event["request_id"] == result.request_id
    assert event["level"] == "INFO" and event["event"] == "request"
    assert {k: event[k] for k in ("frontend", "model", "provider", "operation", "size", "n", "outcome",
                                  "error", "retries", "images")} == {
        "frontend": "cli", "model": "placeholder", "provider": "placeholder", "operation": "generate",
        "size": "64x64", "n": 1, "outcome": "success", "error": None, "retries": 0, "images": 1}
    assert event["parameters"] == {"seed": 7}
    assert event["bytes"] == result.images[0].bytes
    assert event["duration_ms"] >= 0
    assert "prompt" not in event and "a secret garden" not in str(event)


async def test_prompts_are_logged_only_when_configured(make_gateway: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    gateway = await make_gateway(logging={"log_prompts": True})
    capsys.readouterr()
    await gateway.run("generate", ImageRequest(prompt=f"draw this {B64}", model="placeholder", size="64x64"))
    (event,) = request_log_lines(capsys.readouterr().err)
    assert event["prompt"] == f"draw this [base64 data, {len(B64)} chars]"


async def test_retried_then_failed_request_leaks_nothing(make_gateway: Any, spans: Any,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    gateway = await make_gateway(FlakyProvider(failures=99), max_retries=2, logging={"log_prompts": True})
    capsys.readouterr()
    with pytest.raises(UpstreamError):
        await gateway.run("generate", ImageRequest(prompt=f"key {SECRET}", model="flaky-model",
                                                   params={"quality": "high"}), frontend="http")
    err = capsys.readouterr().err
    (event,) = request_log_lines(err)
    assert event["level"] == "WARNING" and event["outcome"] == "upstream_error"
    assert event["retries"] == 2 and event["error"]["code"] == "upstream_error"
    assert event["error"]["retryable"] is True
    assert REDACTED in event["error"]["message"] and "[base64 data," in event["error"]["message"]
    assert event["prompt"] == f"key {REDACTED}"
    assert_clean([err])
    finished = spans.get_finished_spans()
    assert len([s for s in finished if s.name == "imagegate.provider_attempt"]) == 3
    assert_clean(span_texts(finished))
    assert any(REDACTED in text for text in span_texts(finished))


async def test_storage_failure_leaks_nothing(make_gateway: Any, spans: Any, caplog: pytest.LogCaptureFixture,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The failing backend names the key in its exception; no error, log record or span does."""
    gateway = await make_gateway(storage="failing")
    capsys.readouterr()
    with caplog.at_level("DEBUG"), pytest.raises(StorageError) as caught:
        await gateway.run("generate", ImageRequest(prompt="x", model="flaky-model"))
    assert "disk refused the write (token [redacted])" in caught.value.message
    assert_clean([caught.value.message, str(caught.value.to_dict())])
    assert_clean([record.getMessage() for record in caplog.records])
    (event,) = request_log_lines(capsys.readouterr().err)
    assert event["outcome"] == "storage_error"
    assert_clean([str(event)])
    assert_clean(span_texts(spans.get_finished_spans()))


def test_redactor_drops_secret_keys_base64_and_known_values() -> None:
    class Settings:
        providers = {"openai": {"api_key": "sk-known-value-123", "base_url": "https://x"},
                     "replicate": {"api_token": "r8_token_value"}}

        class gateway:  # noqa: N801 - mimics the settings attribute
            api_keys = ["gw-one-key"]
            url_signing_key = None

    redactor = Redactor.from_settings(Settings(), environ={"MY_SERVICE_TOKEN": "env-token-val", "HOME": "/root"})
    scrubbed = redactor.value({
        "Authorization": "Bearer abc", "x-api-key": "zzz", "prompt": "uses sk-known-value-123 and r8_token_value",
        "nested": [{"data": "A" * 300}, "gw-one-key", b"\x89PNG", "env-token-val"], "home": "/root", "n": 2,
    })
    assert scrubbed == {
        "Authorization": REDACTED, "x-api-key": REDACTED, "prompt": f"uses {REDACTED} and {REDACTED}",
        "nested": [{"data": "[base64 data, 300 chars]"}, REDACTED, "[4 bytes]", REDACTED], "home": "/root",
        "n": 2,
    }
    assert redactor.text("short base64 " + "QUJD" * 10) == "short base64 " + "QUJD" * 10


def test_with_the_request_log_on_every_stderr_line_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import logging
    import warnings

    from imagegate._logsetup import configure_logging
    from imagegate._settings import Settings
    from imagegate_observability.logs import install_handler

    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers = []
    logging.captureWarnings(False)  # as in a fresh process
    try:
        configure_logging(Settings(providers={"openai": {"api_key": SECRET}}))
        install_handler()
        logging.getLogger("opentelemetry.sdk.trace.export").warning("exporter failed for %s", SECRET)
        warnings.warn("a library is deprecated", DeprecationWarning, stacklevel=1)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("imagegate.gateway").exception("storage failed")
    finally:
        root.handlers = saved
        root.setLevel(level)
        logging.captureWarnings(False)
    lines = capsys.readouterr().err.splitlines()
    documents = [json.loads(line) for line in lines]
    assert [d["logger"] for d in documents] == ["opentelemetry.sdk.trace.export", "py.warnings", "imagegate.gateway"]
    assert documents[0]["message"] == "exporter failed for [redacted]"
    assert "RuntimeError: boom" in documents[2]["exception"]
