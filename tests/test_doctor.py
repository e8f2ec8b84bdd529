"""``imagegate doctor``: one line per check, exit status 1 when something is wrong, ``--json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from imagegate._diagnostics import run_checks

CLEARED = ("PROVIDERS__", "STORAGE__", "GATEWAY__", "OPENAI_", "REPLICATE_", "IMAGEGATE_")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    return {**clean, "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool")}


def doctor(env: dict[str, str], *args: str) -> tuple[int, dict[str, dict[str, str]], str]:
    done = subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", "doctor", "--json", *args],
                          capture_output=True, text=True, env=env, timeout=60)
    report = json.loads(done.stdout)
    checks = {check["name"]: check for check in report["checks"]}
    assert report["ok"] is (done.returncode == 0)
    return done.returncode, checks, done.stderr


def test_a_fresh_installation_is_healthy(env: dict[str, str]) -> None:
    code, checks, _ = doctor(env)
    assert code == 0
    assert checks["config"]["status"] == "ok" and "IMAGEGATE_CONFIG unset" in checks["config"]["detail"]
    assert checks["storage"] == {"name": "storage", "status": "ok", "detail": "local: writable"}
    assert checks["default model"]["status"] == "ok" and "placeholder" in checks["default model"]["detail"]
    assert checks["provider openai"] == {"name": "provider openai", "status": "warn",
                                         "detail": "not configured: set PROVIDERS__OPENAI__API_KEY"}
    assert checks["plugin mcp"]["status"] == "ok" and "imagegate-mcp" in checks["plugin mcp"]["detail"]


def test_text_output_is_one_line_per_check(env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", "doctor"],
                          capture_output=True, text=True, env=env, timeout=60)
    lines = done.stdout.splitlines()
    assert done.returncode == 0
    assert lines[0].startswith("OK    config ")
    assert any(line.startswith("WARN  provider openai ") for line in lines)
    assert len(lines) == len(doctor(env)[1])


def test_a_key_makes_the_provider_configured_and_is_never_shown(env: dict[str, str]) -> None:
    code, checks, stderr = doctor({**env, "OPENAI_API_KEY": "sk-secret-value-123"})
    assert code == 0 and checks["provider openai"]["status"] == "ok"
    assert "sk-secret-value-123" not in json.dumps(checks) + stderr


@pytest.mark.parametrize(("content", "expected"), [
    (None, "which is not a file"),
    ("[storage\nbackend = 'local'\n", "line 1"),
    ("[gateway]\nretired_models = 'sometimes'\n", "GATEWAY__RETIRED_MODELS"),
])
def test_a_missing_or_invalid_configuration_file_fails(env: dict[str, str], tmp_path: Path,
                                                      content: str | None, expected: str) -> None:
    path = tmp_path / "imagegate.toml"
    if content is not None:
        path.write_text(content)
    code, checks, _ = doctor({**env, "IMAGEGATE_CONFIG": str(path)})
    assert code == 1
    assert checks["config"]["status"] == "fail" and expected in checks["config"]["detail"]
    assert "plugin mcp" in checks  # plugins are still checked


def test_a_valid_configuration_file_is_named(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "imagegate.toml"
    path.write_text("[gateway]\ndefault_model = 'placeholder'\n")
    code, checks, _ = doctor({**env, "IMAGEGATE_CONFIG": str(path)})
    assert code == 0 and checks["config"]["detail"] == f"{path} is valid"


def test_unwritable_storage_fails(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    code, checks, _ = doctor({**env, "STORAGE__LOCAL__ROOT": str(tmp_path / "file" / "images")})
    assert code == 1 and checks["storage"]["status"] == "fail"


def test_a_default_model_without_its_key_fails(env: dict[str, str]) -> None:
    code, checks, _ = doctor({**env, "GATEWAY__DEFAULT_MODEL": "gpt-image-2"})
    assert code == 1
    assert checks["default model"] == {"name": "default model", "status": "fail",
                                       "detail": "gpt-image-2 is not ready: set PROVIDERS__OPENAI__API_KEY"}


def test_an_unknown_default_model_fails(env: dict[str, str]) -> None:
    code, checks, _ = doctor({**env, "GATEWAY__DEFAULT_MODEL": "no-such-model"})
    assert code == 1 and "not a model of any installed provider" in checks["default model"]["detail"]


def test_a_broken_plugin_fails_and_says_why(env: dict[str, str], tmp_path: Path) -> None:
    dists = Path(__file__).resolve().parent / "dists"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(tmp_path / "site"), str(dists / "broken")],
                   check=True, capture_output=True)
    code, checks, _ = doctor({**env, "PYTHONPATH": str(tmp_path / "site")})
    assert code == 1
    broken = checks["plugin brokenplugin"]
    assert broken["status"] == "fail" and "imagegate_dependency_that_does_not_exist" in broken["detail"]


async def test_verify_tries_each_configured_key_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    testing = pytest.importorskip("imagegate_replicate.testing")
    for key in [k for k in os.environ if k.startswith(CLEARED)]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("STORAGE__LOCAL__ROOT", str(tmp_path / "images"))
    monkeypatch.setenv("STORAGE__SPOOL_DIR", str(tmp_path / "spool"))
    fake = await testing.FakeReplicate(token="r8_right").start()
    try:
        monkeypatch.setenv("PROVIDERS__REPLICATE__BASE_URL", fake.base_url)
        monkeypatch.setenv("PROVIDERS__REPLICATE__API_TOKEN", "r8_right")
        checks = {c.name: c for c in await run_checks(verify=True)}
        assert checks["provider replicate"].status == "ok"
        assert checks["provider replicate"].detail.startswith("key accepted")
        assert fake.calls_to("/v1/models/", "GET")

        monkeypatch.setenv("PROVIDERS__REPLICATE__API_TOKEN", "r8_wrong")
        checks = {c.name: c for c in await run_checks(verify=True)}
        assert checks["provider replicate"].status == "fail"
        assert checks["provider replicate"].detail.startswith("authentication")
        assert "r8_wrong" not in checks["provider replicate"].detail
        assert checks["provider openai"].status == "warn"  # no key: nothing to verify
    finally:
        await fake.stop()
