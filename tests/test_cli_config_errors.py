"""Every command and every server refuses a broken configuration the same clean way, and a command
whose plugin is missing names the distribution to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = [
    ["config"], ["models"], ["generate", "x"], ["list"], ["get", "img_20260101_aaaaaaaaaaaaaaaaaaaaaaaaaa"],
    ["serve", "http", "--port", "0"], ["serve", "mcp"], ["serve", "mcp", "--transport", "streamable-http", "--port", "0"],
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__", "MCP__", "OBSERVABILITY__", "OTEL_",
                                  "IMAGEGATE_", "LOGGING__"))}
    return {**clean, "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool")}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it; a server that does not refuse its configuration times out."""
    return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)


def broken_configurations(tmp_path: Path) -> dict[str, tuple[dict[str, str], str, list[str]]]:
    """name -> (variables, param, texts the message must contain)."""
    malformed = tmp_path / "malformed.toml"
    malformed.write_text('[gateway]\nurl_ttl_s = 60\ndefault_model = "unterminated\n')
    misspelt = tmp_path / "misspelt.toml"
    misspelt.write_text('[gatway]\ndefault_model = "placeholder"\n')
    missing = tmp_path / "missing.toml"
    return {
        "missing file": ({"IMAGEGATE_CONFIG": str(missing)}, "IMAGEGATE_CONFIG", [str(missing), "does not exist"]),
        "malformed file": ({"IMAGEGATE_CONFIG": str(malformed)}, "IMAGEGATE_CONFIG", [str(malformed), "line 3"]),
        "misspelt section": ({"IMAGEGATE_CONFIG": str(misspelt)}, "gatway.default_model",
                             [str(misspelt), "did you mean gateway.default_model?"]),
        "misspelt variable": ({"GATEWAY__DEFALT_MODEL": "placeholder"}, "GATEWAY__DEFALT_MODEL",
                              ["did you mean GATEWAY__DEFAULT_MODEL?"]),
        "misspelt provider key": ({"PROVIDERS__OPENAI__APIKEY": "sk-0123456789"}, "PROVIDERS__OPENAI__APIKEY",
                                  ["did you mean PROVIDERS__OPENAI__API_KEY?"]),
        "bad plugin value": ({"GATEWAY__MAX_IMAGES": "many"}, "GATEWAY__MAX_IMAGES", ["GATEWAY__MAX_IMAGES"]),
    }


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:3]) for c in COMMANDS])
def test_every_command_and_server_refuses_a_broken_configuration(env: dict[str, str], tmp_path: Path,
                                                                 command: list[str]) -> None:
    for name, (variables, param, texts) in broken_configurations(tmp_path).items():
        done = run({**env, **variables}, *command)
        assert done.returncode == 1, (name, done.stderr)
        assert done.stderr.startswith(f"error: invalid_request [{param}]: configuration"), (name, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, (name, done.stderr)
        assert all(text in done.stderr for text in texts), (name, done.stderr)
        assert not (tmp_path / "images").exists()


def test_json_commands_answer_the_error_as_json(env: dict[str, str], tmp_path: Path) -> None:
    done = run({**env, "IMAGEGATE_CONFIG": str(tmp_path / "nowhere.toml")}, "generate", "x", "--json")
    assert done.returncode == 1 and done.stderr == ""
    assert json.loads(done.stdout)["error"]["param"] == "IMAGEGATE_CONFIG"


def test_other_programs_variables_are_ignored(env: dict[str, str]) -> None:
    done = run({**env, "GATWAY__DEFAULT_MODEL": "x", "SOMETOOL__SETTING": "y"}, "generate", "x", "--size", "64x64")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("disabled", "command", "variables", "distribution"), [
    ("http", ["serve", "http", "--port", "0"], {}, "imagegate-http"),
    ("mcp", ["serve", "mcp"], {}, "imagegate-mcp"),
    ("mcp", ["serve", "mcp", "--transport", "streamable-http"], {}, "imagegate-mcp"),
    ("storage-local", ["generate", "x"], {}, "imagegate-storage-local"),
    ("storage-local", ["list"], {}, "imagegate-storage-local"),
    ("storage-s3", ["generate", "x"], {"STORAGE__BACKEND": "s3", "STORAGE__S3__BUCKET": "pictures"},
     "imagegate-storage-s3"),
])
def test_a_missing_plugin_names_its_distribution(env: dict[str, str], disabled: str, command: list[str],
                                                  variables: dict[str, str], distribution: str) -> None:
    done = run({**env, **variables, "IMAGEGATE_DISABLE_PLUGINS": disabled}, *command)
    assert done.returncode == 1
    assert done.stderr.startswith("error: invalid_request") and "Traceback" not in done.stderr
    assert f"pip install {distribution}" in done.stderr
    as_json = run({**env, **variables, "IMAGEGATE_DISABLE_PLUGINS": disabled}, *command, "--json")
    assert f"pip install {distribution}" in json.loads(as_json.stdout)["error"]["message"]
