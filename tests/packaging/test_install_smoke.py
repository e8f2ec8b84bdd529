"""Install the built wheels like a user does, into a fresh virtualenv outside the checkout, and use them.

Our distributions come only from the freshly built ``dist/`` (pinned to the built version); their
third-party dependencies come from the package index this machine's pip is configured for, pinned
by ``constraints.txt`` (warm pip cache: ~20 s).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
import urllib.request
import venv
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from imagegate.testing import stop_process

from .support import ROOT, Wheel

pytestmark = [pytest.mark.install_smoke, pytest.mark.timeout(480)]


@pytest.fixture(scope="module")
def installed(dist_dir: Path, wheels: dict[str, Wheel], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh virtualenv where ``imagegate[all]`` was installed from ``dist_dir``."""
    home = tmp_path_factory.mktemp("user")
    venv.create(home / "venv", with_pip=True)
    ours = home / "ours.txt"
    ours.write_text("".join(f"{name}=={wheel.metadata['Version']}\n" for name, wheel in wheels.items()))
    done = subprocess.run(
        [str(home / "venv/bin/python"), "-m", "pip", "install", "--quiet", "--find-links", str(dist_dir),
         "-c", str(ROOT / "constraints.txt"), "-c", str(ours), "imagegate[all]"],
        cwd=home, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return home / "venv/bin"


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment: no keys, no settings of the developer's, data under ``tmp_path``."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {key: value for key, value in os.environ.items() if key in keep}
    return {**env, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def _run(bin_dir: Path, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "imagegate"), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_version_plugins_and_a_placeholder_image(installed: Path, wheels: dict[str, Wheel],
                                                 user_env: dict[str, str], tmp_path: Path) -> None:
    version = _run(installed, user_env, tmp_path, "--version")
    assert version.returncode == 0 and wheels["imagegate"].metadata["Version"] in version.stdout

    listed = _run(installed, user_env, tmp_path, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {item["name"]: item for item in json.loads(listed.stdout)}
    for name, wheel in wheels.items():
        for short in re.findall(r"^(\S+) = ", wheel.entry_points.split("[imagegate]")[-1], re.M):
            if name != "imagegate":
                assert plugins[short]["error"] is None and plugins[short]["distribution"] == name

    made = _run(installed, user_env, tmp_path, "generate", "a lighthouse at dusk", "--size", "64x64", "--json")
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["model"] == "placeholder"
    image = result["images"][0]
    assert (image["width"], image["height"]) == (64, 64)
    path = Path(image["path"])
    assert path.is_relative_to(tmp_path / "data") and path.read_bytes().startswith(b"\x89PNG")


@pytest.fixture
def http_server(installed: Path, user_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``imagegate serve http --port 0`` from the installed wheels; its base URL; always stopped."""
    proc = subprocess.Popen([str(installed / "imagegate"), "serve", "http", "--host", "127.0.0.1", "--port", "0"],
                            env=user_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=60)
        line = proc.stdout.readline() if ready else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, f"no address announced: {line!r} {proc.poll()}"
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        stop_process(proc, timeout_s=20)


def test_serve_http_answers_healthz(http_server: str) -> None:
    deadline = time.monotonic() + 30
    while True:  # the socket listens before the line is printed; the app may still be starting
        try:
            with urllib.request.urlopen(f"{http_server}/healthz", timeout=5) as response:
                assert response.status == 200
                return
        except OSError:
            if time.monotonic() > deadline:
                raise


async def test_serve_mcp_lists_tools_over_stdio(installed: Path, user_env: dict[str, str]) -> None:
    params = StdioServerParameters(command=str(installed / "imagegate"), args=["serve", "mcp"], env=user_env)
    with anyio.fail_after(90):
        async with Client(params, mode="legacy") as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"generate_image", "edit_image", "create_variation", "list_available_models"} <= tools


def test_the_interpreter_running_the_tests_is_not_the_installed_one(installed: Path) -> None:
    assert not installed.is_relative_to(ROOT) and Path(sys.executable).parent != installed


def test_the_checkout_with_all_resolves_its_siblings_from_dist(dist_dir: Path, wheels: dict[str, Wheel],
                                                               tmp_path: Path) -> None:
    """``pip install --find-links dist './[all]'``: the checkout itself, every plugin from ``dist/``."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
         "--no-build-isolation", "--report", str(report), "--find-links", str(dist_dir),
         "-c", str(ROOT / "constraints.txt"), f"{ROOT}[all]"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    chosen = {item["metadata"]["name"]: item["download_info"]["url"]
              for item in json.loads(report.read_text())["install"]}
    assert chosen["imagegate"] == ROOT.as_uri()
    for name in set(wheels) - {"imagegate"}:
        assert chosen[name].startswith(dist_dir.as_uri()), name


TOOL_INSTALLS = {  # the commands docs/install.md gives
    "uv": lambda tool, dist: [str(tool), "tool", "install", "--find-links", str(dist),
                                   "-c", str(ROOT / "constraints.txt"), "imagegate[all]"],
    "pipx": lambda tool, dist: [str(tool), "install", "--pip-args",
                                     f"--find-links {dist} -c {ROOT / 'constraints.txt'}", "imagegate[all]"],
}


@pytest.mark.parametrize("tool", sorted(TOOL_INSTALLS))
def test_uv_tool_and_pipx_install_from_dist(tool: str, dist_dir: Path, wheels: dict[str, Wheel],
                                            user_env: dict[str, str], tmp_path: Path) -> None:
    """The installer itself comes from the package index into a throwaway virtualenv."""
    venv.create(tmp_path / "tools", with_pip=True)
    got = subprocess.run([str(tmp_path / "tools/bin/python"), "-m", "pip", "install", "--quiet", tool],
                         capture_output=True, text=True, timeout=180)
    if got.returncode:
        pytest.skip(f"{tool} is not installable from the package index here: {got.stderr[-300:]}")
    env = {**user_env, "UV_TOOL_DIR": str(tmp_path / "uv/tools"), "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
           "UV_CACHE_DIR": str(tmp_path / "uv/cache"), "PIPX_HOME": str(tmp_path / "pipx"),
           "PIPX_BIN_DIR": str(tmp_path / "bin"), "PIPX_MAN_DIR": str(tmp_path / "man")}
    for key in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CERT", "SSL_CERT_FILE"):
        if key in os.environ:  # the machine's own index settings, as a user's would be
            env[key] = os.environ[key]
    done = subprocess.run(TOOL_INSTALLS[tool](tmp_path / "tools/bin" / tool, dist_dir), env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    version = _run(tmp_path / "bin", env, tmp_path, "--version")
    assert version.returncode == 0 and wheels["imagegate"].metadata["Version"] in version.stdout
    listed = json.loads(_run(tmp_path / "bin", env, tmp_path, "plugins", "--json").stdout)
    assert {item["distribution"] for item in listed} >= set(wheels) - {"imagegate"}
    block = json.loads(_run(tmp_path / "bin", env, tmp_path, "mcp", "config", "--client", "cursor").stdout)
    command = Path(block["mcpServers"]["imagegate"]["command"])
    assert command.is_relative_to(tmp_path) and command.is_file()
