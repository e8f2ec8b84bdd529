"""``imagegate models`` and ``imagegate models --check`` in a subprocess, with the lifecycle test
provider, against a loopback fake of OpenAI's ``GET /v1/models``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

KEY = "lc-test-key"
SCRIPT = """
import imagegate._plugins as plugins
from imagegate.testing.lifecycle import LifecyclePlugin

build = plugins.make_plugin_manager

def with_lifecycle(**kwargs):
    pm = build(**kwargs)
    pm.register(LifecyclePlugin(), name="lc")
    return pm

plugins.make_plugin_manager = with_lifecycle
from imagegate.cli import main
main()
"""


class FakeModels:
    """OpenAI's model list: 401 with OpenAI's error body for a wrong key, else the list."""

    def __init__(self) -> None:
        self.models: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []
        self.base_url = ""

    def add(self, model_id: str, shutdown_date: str | None = None) -> None:
        from openai.types import Model

        item = {"id": model_id, "object": "model", "created": 1767225600, "owned_by": "system",
                "shutdown_date": shutdown_date}
        Model.model_validate(item)  # the official SDK's type: the fake answers what the SDK reads
        self.models.append(item)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.headers))
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"error": {
                "message": "Incorrect API key provided: wr***ey. You can find your API key at "
                           "https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}, status=401)
        return web.json_response({"object": "list", "data": self.models})


@pytest.fixture
async def upstream() -> AsyncIterator[FakeModels]:
    fake = FakeModels()
    app = web.Application()
    app.router.add_get("/v1/models", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        fake.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__", "OPENAI_", "REPLICATE_", "IMAGEGATE_"))}
    config = tmp_path / "imagegate.toml"
    config.write_text('[models."lc-extra"]\nbase = "lc-new"\nrecommended = false\n')
    return {**clean, "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
            "IMAGEGATE_DISABLE_PLUGINS": "openai,replicate,gemini,observability", "IMAGEGATE_CONFIG": str(config)}


async def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


# imagegate models ---------------------------------------------------------------------------------


async def test_models_json_shows_lifecycle_readiness_aliases_and_the_default(env: dict[str, str]) -> None:
    code, out, err = await run(env, "models", "--json")
    assert code == 0, err
    entries = {item["id"]: item for item in json.loads(out)}
    new, old = entries["lc-new"], entries["lc-old"]
    assert (new["status"], new["shutdown_date"], new["replacement"], new["aliases"]) == (
        "active", None, None, ["lc-latest"])
    assert (old["status"], old["shutdown_date"], old["replacement"]) == ("retired", "2026-05-12", "lc-older-successor")
    assert (new["ready"], new["setup"], new["default"]) == (False, "set PROVIDERS__LC__API_KEY", False)
    placeholder = entries["placeholder"]
    assert (placeholder["ready"], placeholder["setup"], placeholder["default"]) == (True, None, True)

    code, out, err = await run({**env, "PROVIDERS__LC__API_KEY": KEY}, "models", "--json")
    entries = {item["id"]: item for item in json.loads(out)}
    assert (entries["lc-new"]["ready"], entries["lc-new"]["setup"], entries["lc-new"]["default"]) == (True, None, True)
    assert entries["placeholder"]["default"] is False


async def test_models_text_marks_retired_and_deprecated_models(env: dict[str, str]) -> None:
    code, out, err = await run(env, "models")
    assert code == 0, err
    lines = out.splitlines()

    def state_of(model_id: str) -> str:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{model_id} "))
        return lines[index + 1].strip()

    assert state_of("lc-old") == ("RETIRED since 2026-05-12, use lc-older-successor instead; "
                                  "not ready: set PROVIDERS__LC__API_KEY")
    assert state_of("lc-deprecated") == ("deprecated shuts down 2031-01-15, use lc-new instead; "
                                         "not ready: set PROVIDERS__LC__API_KEY")
    assert state_of("lc-new") == "active; not ready: set PROVIDERS__LC__API_KEY; aliases: lc-latest"
    assert state_of("placeholder") == "active; ready; default"


# imagegate models --check -------------------------------------------------------------------------


def check_env(env: dict[str, str], upstream: FakeModels, **extra: str) -> dict[str, str]:
    return {**env, "PROVIDERS__LC__API_KEY": KEY, "PROVIDERS__LC__BASE_URL": upstream.base_url, **extra}


async def test_check_reports_each_difference_and_passes_for_a_safe_default(
        env: dict[str, str], upstream: FakeModels) -> None:
    upstream.add("lc-image-new")
    upstream.add("lc-image-dep", "2031-01-10")  # the catalog says 2031-01-15
    upstream.add("lc-image-old", "2026-05-12")  # retired in the catalog, still listed: not a finding
    upstream.add("lc-image-brand-new")
    upstream.add("lc-text-model")  # not an image model
    code, out, err = await run(check_env(env, upstream), "models", "--check", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report == {
        "providers": [{
            "provider": "lc", "error": None, "listed": 5,
            "missing_upstream": ["lc-extra"],
            "not_in_catalog": ["lc-image-brand-new"],
            "shutdown_changes": [{"model": "lc-deprecated", "catalog": "2031-01-15", "upstream": "2031-01-10"}],
        }],
        "default_model": {"model": "lc-new", "status": "active", "shutdown_date": None, "days_left": None,
                          "replacement": None, "served": True, "alarm": None},
        "ok": True,
    }
    assert [headers["Authorization"] for headers in upstream.requests] == [f"Bearer {KEY}"]

    code, out, err = await run(check_env(env, upstream), "models", "--check")
    assert code == 0, err
    assert out.splitlines() == [
        "lc: 5 upstream model(s) listed",
        "  no longer listed upstream: lc-extra",
        "  upstream image model not in the catalog: lc-image-brand-new",
        "  shutdown date of lc-deprecated: catalog 2031-01-15, upstream 2031-01-10",
        "default model lc-new: active, no shutdown date announced",
    ]


@pytest.mark.parametrize(("days", "status"), [(30, 1), (31, 0), (-2, 1)])
async def test_check_fails_when_the_default_shuts_down_within_30_days(
        env: dict[str, str], upstream: FakeModels, days: int, status: int) -> None:
    upstream.add("lc-image-dep", in_days(days))
    code, out, err = await run(check_env(env, upstream, GATEWAY__DEFAULT_MODEL="lc-deprecated"),
                               "models", "--check", "--json")
    assert code == status, err
    default = json.loads(out)["default_model"]
    assert (default["model"], default["status"], default["days_left"], default["shutdown_date"]) == (
        "lc-deprecated", "deprecated", days, in_days(days))
    assert default["alarm"] == (f"the default model lc-deprecated shuts down in {days} day(s)" if status else None)
    code, out, _ = await run(check_env(env, upstream, GATEWAY__DEFAULT_MODEL="lc-deprecated"), "models", "--check")
    assert code == status
    alarm = f"ALARM: the default model lc-deprecated shuts down in {days} day(s); use lc-new instead"
    assert (alarm in out.splitlines()) is bool(status)


async def test_check_fails_for_a_retired_or_vanished_default(env: dict[str, str], upstream: FakeModels) -> None:
    upstream.add("lc-image-new")
    code, out, err = await run(check_env(env, upstream, GATEWAY__DEFAULT_MODEL="lc-old"), "models", "--check", "--json")
    assert code == 1, err
    default = json.loads(out)["default_model"]
    assert (default["alarm"], default["days_left"], default["served"]) == (
        "the default model lc-old is retired", (datetime(2026, 5, 12, tzinfo=UTC).date()
                                                - datetime.now(UTC).date()).days, False)
    code, out, err = await run(check_env(env, upstream, GATEWAY__DEFAULT_MODEL="lc-extra"), "models", "--check", "--json")
    assert code == 1, err
    assert json.loads(out)["default_model"]["alarm"] == "lc no longer lists the default model lc-extra"


async def test_check_reports_a_provider_it_cannot_ask(env: dict[str, str], upstream: FakeModels) -> None:
    code, out, err = await run({**env, "PROVIDERS__LC__BASE_URL": upstream.base_url}, "models", "--check", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["providers"] == [{"provider": "lc", "error": "not configured (set PROVIDERS__LC__API_KEY)",
                                    "listed": 0, "missing_upstream": [], "not_in_catalog": [],
                                    "shutdown_changes": []}]
    assert report["default_model"]["model"] == "placeholder" and report["ok"] is True
    assert upstream.requests == []

    code, out, err = await run(check_env(env, upstream, PROVIDERS__LC__API_KEY="wrong-key"), "models", "--check")
    assert code == 0, err
    assert out.splitlines()[0].startswith("lc: listing failed: upstream_error: Incorrect API key provided")
    assert len(upstream.requests) == 1


# generate with a retired model ---------------------------------------------------------------------


async def test_generate_refuses_a_retired_model_or_translates_it_with_json_output(env: dict[str, str]) -> None:
    keyed = {**env, "PROVIDERS__LC__API_KEY": KEY}
    args = ("generate", "a fox", "-m", "lc-old", "--size", "1792x1024", "--param", "quality=hd", "--json")
    code, out, _ = await run(keyed, *args)
    assert code == 1
    error = json.loads(out)["error"]
    assert (error["code"], error["replacement"]) == ("model_retired", "lc-new")

    code, out, err = await run({**keyed, "GATEWAY__RETIRED_MODELS": "translate"}, *args)
    assert code == 0, err
    result = json.loads(out)
    assert (result["model"], result["resolved_model"]) == ("lc-new", "lc-new")
    assert result["substitutions"] == [{"param": "model", "from": "lc-old", "to": "lc-new"},
                                       {"param": "size", "from": "1792x1024", "to": "1536x1024"},
                                       {"param": "quality", "from": "hd", "to": "high"}]
    code, out, err = await run({**keyed, "GATEWAY__RETIRED_MODELS": "translate"}, *args[:-1])
    assert code == 0, err
    assert ("note: the requested model is retired; ran lc-new instead (model 'lc-old' -> 'lc-new', "
            "size '1792x1024' -> '1536x1024', quality 'hd' -> 'high')") in err.splitlines()
