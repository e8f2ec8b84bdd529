"""The CLI end to end on the offline default, in a subprocess like a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagegate.testing import image_bytes

from .process_support import cli_env, run


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def test_generate_prints_the_image_and_its_metadata(env: dict[str, str], tmp_path: Path) -> None:
    done = run(env, "generate", "a lighthouse at dusk")
    assert done.returncode == 0, done.stderr
    image, meta = done.stdout.split()
    assert Path(image).is_file() and Path(image).read_bytes().startswith(b"\x89PNG")
    assert Path(image).is_relative_to(tmp_path / "images")
    metadata = json.loads(Path(meta).read_text())
    assert metadata["prompt"] == "a lighthouse at dusk" and metadata["model"] == "placeholder"
    assert metadata["width"] == metadata["height"] == 1024


def test_generate_json_matches_the_contract_and_get_reads_it_back(env: dict[str, str], tmp_path: Path) -> None:
    done = run(env, "generate", "a cat", "--size", "128x64", "-n", "2", "--param", "seed=7",
               "--param", "output_format=webp", "-o", str(tmp_path / "out"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"images", "model", "provider", "revised_prompt", "cost", "request_id"}
    assert result["cost"] == {"estimated_usd": 0.0, "actual_usd": None}
    first = result["images"][0]
    assert set(first) == {"id", "uri", "path", "url", "mime_type", "width", "height", "bytes", "sha256", "parent_ids"}
    assert (first["mime_type"], first["width"], first["height"]) == ("image/webp", 128, 64)
    assert Path(first["path"]).parent == tmp_path / "out"  # -o: the printed path is the copy
    got = json.loads(run(env, "get", first["id"], "--json").stdout)
    assert got["images"][0]["sha256"] == first["sha256"] and got["model"] == "placeholder"
    listed = json.loads(run(env, "list", "--json").stdout)
    assert {item["id"] for item in listed} == {image["id"] for image in result["images"]}
    assert run(env, "delete", first["id"]).returncode == 0
    missing = run(env, "get", first["id"], "--json")
    assert missing.returncode == 1 and json.loads(missing.stdout)["error"]["code"] == "not_found"


def test_edit_and_vary_read_the_paths_the_user_names(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(image_bytes(96, 96))
    edited = run(env, "edit", str(source), "--prompt", "add a hat", "--json")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["images"][0]["width"] == 96
    varied = run(env, "vary", str(source), "-n", "2", "--json")
    assert varied.returncode == 0, varied.stderr
    assert len(json.loads(varied.stdout)["images"]) == 2


@pytest.mark.parametrize(("args", "param"), [
    (["generate", "x", "--size", "10x10"], "size"),
    (["generate", "", ], "prompt"),
    (["generate", "x", "-n", "11"], "n"),
    (["generate", "x", "--param", "style=vivid"], "style"),
    (["generate", "x", "-m", "no-such-model"], "model"),
])
def test_bad_input_exits_1_with_the_code_and_writes_nothing(env: dict[str, str], tmp_path: Path, args: list[str],
                                                             param: str) -> None:
    done = run(env, *args, "--json")
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error["param"] == param and error["code"] in {"invalid_request", "not_found"}
    assert not list((tmp_path / "images").rglob("img_*"))


def test_unreadable_input_file_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    done = run(env, "edit", str(tmp_path / "notes.txt"), "--prompt", "x", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "invalid_request"
    plain = run(env, "edit", str(tmp_path / "missing.png"), "--prompt", "x")
    assert plain.returncode == 1 and "invalid_request" in plain.stderr and "missing.png" in plain.stderr


def test_usage_errors_exit_2_with_json(env: dict[str, str]) -> None:
    done = run(env, "generate", "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["code"] == "invalid_request"


def test_storage_root_not_writable(env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run({**env, "STORAGE__LOCAL__ROOT": str(blocker / "images")}, "generate", "x", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["code"] == "storage_error"


def test_dry_run_prices_without_generating(env: dict[str, str], tmp_path: Path) -> None:
    done = run(env, "generate", "x", "-n", "3", "--dry-run", "--json")
    assert done.returncode == 0
    estimate = json.loads(done.stdout)
    assert estimate["dry_run"] is True and estimate["parameters"]["n"] == 3
    assert not list((tmp_path / "images").rglob("img_*"))


def test_models_and_config_mask_secrets(env: dict[str, str]) -> None:
    models = json.loads(run(env, "models", "--json").stdout)
    placeholder = next(m for m in models if m["id"] == "placeholder")
    assert placeholder["operations"] == ["generate", "edit", "variation"]
    secret_env = {**env, "PROVIDERS__OPENAI__API_KEY": "sk-very-secret-value", "GATEWAY__API_KEYS": "k1,k2"}
    shown = run(secret_env, "config", "--json")
    assert "sk-very-secret-value" not in shown.stdout and "k1" not in shown.stdout
    config = json.loads(shown.stdout)
    assert config["providers"]["openai"]["api_key"] == "********"
    assert config["storage"]["local"]["root"] == env["STORAGE__LOCAL__ROOT"]
    plain = run(secret_env, "config")
    assert "sk-very-secret-value" not in plain.stdout and "STORAGE__LOCAL__ROOT=" in plain.stdout


@pytest.mark.parametrize("command", [["config"], ["models"], ["generate", "x"]])
def test_a_bad_setting_is_a_clean_error_for_every_command(env: dict[str, str], command: list[str]) -> None:
    env = {**env, "GATEWAY__MAX_IMAGES": "many"}
    done = run(env, *command)
    assert done.returncode == 1
    assert done.stderr.startswith("error: invalid_request [GATEWAY__MAX_IMAGES]: configuration GATEWAY__MAX_IMAGES")
    assert "Traceback" not in done.stderr
    as_json = run(env, *command, "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"]["param"] == "GATEWAY__MAX_IMAGES"
