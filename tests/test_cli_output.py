"""What the CLI prints, as users see it: nothing on stderr when a command succeeds, the effective
configuration with where images go and where keys come from, dry-run prices that say what they
mean, and no terminal escape sequence from anyone's text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagegate.cli._output import echo, emit_json, fail
from imagegate._errors import UpstreamError

ESCAPES = ("\x1b]52;c;ZWNobyBwd25lZA==\x07", "\x1b]0;title\x07", "\x1b[2J", "\x9b31m", "\x07")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The default install (observability included), in a clean configuration."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__", "MCP__", "OBSERVABILITY__", "OTEL_",
                                  "OPENAI_", "REPLICATE_", "IMAGEGATE_", "LOGGING__"))}
    return {**clean, "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool")}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)


def test_successful_commands_print_no_log_line(env: dict[str, str]) -> None:
    made = run(env, "generate", "a lighthouse", "--size", "64x64", "--json")
    assert (made.returncode, made.stderr) == (0, "")
    image_id = json.loads(made.stdout)["images"][0]["id"]
    for args in (["generate", "a fox", "--size", "64x64"], ["get", image_id], ["list"], ["config"],
                 ["models", "--json"], ["plugins"], ["generate", "x", "--dry-run"], ["delete", image_id]):
        done = run(env, *args)
        assert (done.returncode, done.stderr) == (0, ""), args


def test_config_shows_plugin_sections_storage_and_key_sources(env: dict[str, str], tmp_path: Path) -> None:
    shown = run({**env, "OPENAI_API_KEY": "sk-fallback-0123456789", "PROVIDERS__REPLICATE__API_TOKEN": "r8_secret0123456",
                 "MCP__DELIVER": "preview"}, "config", "--json")
    assert shown.returncode == 0, shown.stderr
    assert "sk-fallback-0123456789" not in shown.stdout and "r8_secret0123456" not in shown.stdout
    config = json.loads(shown.stdout)
    assert config["mcp"]["deliver"] == "preview" and config["mcp"]["inline_max_bytes"] == 750_000  # plugin defaults
    assert config["gateway"]["max_body_mb"] == 64.0  # the HTTP plugin's limit, in the section it reads
    assert config["providers"]["openai"]["api_key"] == "********"
    assert config["resolved"]["storage_location"] == str(tmp_path / "images")
    assert config["resolved"]["key_sources"] == {"openai": "OPENAI_API_KEY",
                                                 "replicate": "PROVIDERS__REPLICATE__API_TOKEN"}
    nested = run({**env, "PROVIDERS__OPENAI__API_KEY": "sk-nested-0123456789"}, "config", "--json")
    assert json.loads(nested.stdout)["resolved"]["key_sources"]["openai"] == "PROVIDERS__OPENAI__API_KEY"
    bucket = run({**env, "STORAGE__BACKEND": "s3", "STORAGE__S3__BUCKET": "pictures", "STORAGE__S3__PREFIX": "team/a"},
                 "config")
    assert "# images are stored at s3://pictures/team/a;" in bucket.stdout
    assert "# openai key: not set" in bucket.stdout


def _active_openai_model(env: dict[str, str]) -> str:
    """A current GPT image model (priced by quality, which may be ``auto``)."""
    models = json.loads(run(env, "models", "--json").stdout)
    return next(m["id"] for m in models if m["provider"] == "openai" and m.get("status", "active") != "retired"
                and not m["id"].startswith("responses/")
                and "auto" in m["parameters"].get("quality", {}).get("enum", []))


def test_dry_run_says_when_there_is_no_key_and_when_a_price_is_an_upper_bound(env: dict[str, str]) -> None:
    model = _active_openai_model(env)
    auto = run(env, "generate", "a cat", "-m", model, "--dry-run", "--json")
    assert auto.returncode == 0, auto.stderr
    estimate = json.loads(auto.stdout)
    assert estimate["cost"]["estimated_usd"] > 0  # still priced
    assert estimate["ready"] is False and estimate["upper_bound"] is True
    assert any("PROVIDERS__OPENAI__API_KEY" in note for note in estimate["notes"])
    assert any("quality=auto" in note and "upper bound" in note for note in estimate["notes"])
    plain = run(env, "generate", "a cat", "-m", model, "--dry-run")
    assert "estimated cost at most $" in plain.stdout and "note: no key" in plain.stdout
    chosen = run({**env, "OPENAI_API_KEY": "sk-test-0123456789"}, "generate", "a cat", "-m", model, "--dry-run",
                 "--param", "quality=low", "--size", "1024x1024", "--json")
    estimate = json.loads(chosen.stdout)
    assert (estimate["ready"], estimate["upper_bound"], estimate["notes"]) == (True, False, [])
    free = json.loads(run(env, "generate", "x", "--dry-run", "--json").stdout)
    assert (free["ready"], free["upper_bound"]) == (True, False)


def test_printed_errors_carry_no_escape_sequence(capsys: pytest.CaptureFixture[str]) -> None:
    message = "upstream said: " + "".join(ESCAPES) + "done\nsecond line"
    with pytest.raises(SystemExit):
        fail(UpstreamError(message, provider="openai").to_dict(), as_json=False)
    with pytest.raises(SystemExit):
        fail(UpstreamError(message).to_dict(), as_json=True)
    echo("note: " + ESCAPES[0] + "kept text")
    emit_json({"revised_prompt": ESCAPES[1] + "a cat"})
    out, err = capsys.readouterr()
    for text in (out, err):
        assert not any(char in text for char in "\x1b\x07\x9b"), repr(text)
        assert "ZWNobyBwd25lZA" not in text and "title" not in text  # OSC payloads go with their sequence
    assert err == "error: upstream_error: upstream said: done\nsecond line (retryable)\n"
    assert json.loads(out.split("\n}\n")[0] + "\n}")["error"]["message"] == "upstream said: done\nsecond line"
    assert "note: kept text" in out and '"revised_prompt": "a cat"' in out


def test_upstream_error_text_reaches_the_terminal_clean(env: dict[str, str]) -> None:
    from imagegate_openai.testing import serve_in_thread

    model = _active_openai_model(env)
    with serve_in_thread() as fake:
        fake.fail_with(400, {"error": {"message": f"bad request {ESCAPES[0]}{ESCAPES[1]}really",
                                       "type": "invalid_request_error", "param": None, "code": None}}, times=2)
        upstream = {**env, "PROVIDERS__OPENAI__API_KEY": "sk-test-0123456789", "PROVIDERS__OPENAI__BASE_URL": fake.base_url,
                    "PROVIDERS__OPENAI__MAX_RETRIES": "0"}
        plain = run(upstream, "generate", "a cat", "-m", model)
        as_json = run(upstream, "generate", "a cat", "-m", model, "--json")
    assert plain.returncode == 1 and "bad request really" in plain.stderr
    assert as_json.returncode == 1 and "bad request really" in json.loads(as_json.stdout)["error"]["message"]
    for text in (plain.stderr, plain.stdout, as_json.stdout, as_json.stderr):
        assert "\x1b" not in text and "\x07" not in text and "\\u001b" not in text
