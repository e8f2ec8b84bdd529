"""Lineage: every stored image records the stored images it was made from, and `get --lineage` walks it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from imagegate._lineage import lineage
from imagegate._models import ImageInput, ImageRequest
from imagegate.testing.factories import opened_gateway, temp_settings


async def test_parent_ids_are_stored_images_given_by_id(tmp_path: Path) -> None:
    async with opened_gateway(temp_settings(tmp_path)) as gateway:
        base = (await gateway.generate(ImageRequest(prompt="a hill", model="placeholder", size="64x64"))).images[0]
        assert base.parent_ids == [] and (await gateway.metadata(base.id))["parent_ids"] == []
        other = (await gateway.generate(ImageRequest(prompt="a sea", model="placeholder", size="64x64"))).images[0]
        edited = await gateway.edit(ImageRequest(
            prompt="add a moon", model="placeholder", size="64x64",
            images=[ImageInput(kind="id", value=base.id), ImageInput(kind="id", value=other.id),
                    ImageInput(kind="id", value=base.id)]))
        child = edited.images[0]
        metadata = await gateway.metadata(child.id)
        assert metadata["parent_ids"] == [base.id, other.id]  # each once, in the order given
        assert metadata["request_id"] == edited.request_id
        assert child.parent_ids == [base.id, other.id] and child.as_dict()["parent_ids"] == [base.id, other.id]
        assert (await gateway.describe(child.id)).parent_ids == [base.id, other.id]
        grandchild = (await gateway.variation(ImageRequest(
            model="placeholder", size="64x64", images=[ImageInput(kind="id", value=child.id)]))).images[0]
        found = await lineage(gateway, child.id)
        assert [a["id"] for a in found["ancestors"]] == [base.id, other.id]
        assert [d["id"] for d in found["descendants"]] == [grandchild.id]
        top = await lineage(gateway, base.id)
        assert top["ancestors"] == [] and [d["id"] for d in top["descendants"]] == [child.id, grandchild.id]
        await gateway.delete(base.id)
        assert (await lineage(gateway, grandchild.id))["ancestors"][1] == {"id": base.id, "missing": True,
                                                                          "parent_ids": []}


async def test_paths_and_bytes_are_not_parents(tmp_path: Path) -> None:
    from imagegate.testing import image_bytes

    async with opened_gateway(temp_settings(tmp_path)) as gateway:
        result = await gateway.edit(ImageRequest(
            prompt="x", model="placeholder", size="64x64", images=[ImageInput(kind="bytes", value=image_bytes(64, 64))]))
        assert (await gateway.metadata(result.images[0].id))["parent_ids"] == []


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_get_lineage(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__"))},
           "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
           "IMAGEGATE_DISABLE_PLUGINS": "observability"}
    base = json.loads(_run(env, "generate", "a hill", "--size", "64x64", "--json").stdout)["images"][0]["id"]
    done = _run(env, "edit", base, "--prompt", "add a moon", "--size", "64x64", "--json")
    assert done.returncode == 0, done.stderr
    child = json.loads(done.stdout)["images"][0]
    assert child["parent_ids"] == [base]
    got = json.loads(_run(env, "get", child["id"], "--json").stdout)
    assert got["parent_ids"] == [base] and got["images"][0]["parent_ids"] == [base]
    found = json.loads(_run(env, "get", base, "--lineage", "--json").stdout)
    assert found["image"]["id"] == base and [d["id"] for d in found["descendants"]] == [child["id"]]
    text = _run(env, "get", child["id"], "--lineage").stdout.splitlines()
    assert text[0].startswith(f"parent  {base}") and text[1].startswith(f"image   {child['id']}  edit")


def test_cli_grid_prints_tiles_then_the_grid_and_lineage_reaches_it(tmp_path: Path) -> None:
    from PIL import Image

    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__"))},
           "STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
           "IMAGEGATE_DISABLE_PLUGINS": "observability"}
    done = _run(env, "generate", "--grid", "2x2", "--cell", "a cat", "--cell", "a dog", "--cell", "a fox",
                "--cell", "an owl", "--size", "256x256", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    *tiles, grid = result["images"]
    assert result["grid"] == {"id": grid["id"], "rows": 2, "columns": 2}
    assert [t["cell"]["index"] for t in tiles] == [0, 1, 2, 3] and "cell" not in grid
    assert all(t["parent_ids"] == [grid["id"]] for t in tiles) and len({t["sha256"] for t in tiles}) == 4
    for tile in tiles:
        with Image.open(tile["path"]) as image:
            assert image.size == (tile["width"], tile["height"]) == (120, 120)  # placeholder: 5 px gutters
    found = json.loads(_run(env, "get", tiles[3]["id"], "--lineage", "--json").stdout)
    assert [a["id"] for a in found["ancestors"]] == [grid["id"]]
    text = _run(env, "generate", "--grid", "2x2", "--cell", "a", "--json")
    assert text.returncode != 0 and json.loads(text.stdout)["error"]["param"] == "cells"
    plain = _run(env, "generate", "--grid", "9x1", "x", "--json")
    assert json.loads(plain.stdout)["error"]["param"] == "grid"
