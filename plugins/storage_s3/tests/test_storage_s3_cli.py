"""``imagegate spool list`` and ``imagegate spool drain`` against moto's S3 server."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from imagegate.cli._app import build_cli
from imagegate._filestore import FileStore
from imagegate._ids import new_image_id
from imagegate_storage_s3.keys import KeyLayout
from imagegate_storage_s3.testing import MotoServer, free_port

PNG = b"\x89PNG\r\n\x1a\n" + b"spooled" * 50


def spool_image(spool_dir: Path) -> str:
    image_id = new_image_id()
    metadata = {"id": image_id, "extension": "png", "mime_type": "image/png", "bytes": len(PNG),
                "sha256": hashlib.sha256(PNG).hexdigest(), "width": 8, "height": 8, "model": "placeholder"}
    FileStore(spool_dir).save_sync(image_id, "png", PNG, metadata)
    return image_id


@pytest.fixture
def env(moto_server: MotoServer, bucket: str, tmp_path: Path) -> dict[str, str]:
    return {"STORAGE__BACKEND": "s3", "STORAGE__S3__BUCKET": bucket, "STORAGE__S3__ENDPOINT_URL": moto_server.url,
            "STORAGE__S3__MAX_ATTEMPTS": "1", "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
            "IMAGEGATE_CONFIG": ""}


def run(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(build_cli(), args, env=env, catch_exceptions=False)


def test_spool_list_and_drain(env: dict[str, str], bucket: str, s3: Any) -> None:
    image_id = spool_image(Path(env["STORAGE__SPOOL_DIR"]))
    listed = run(["spool", "list", "--json"], env)
    assert listed.exit_code == 0, listed.output
    entries = orjson.loads(listed.stdout)
    assert [entry["id"] for entry in entries] == [image_id]
    assert Path(entries[0]["path"]).read_bytes() == PNG

    drained = run(["spool", "drain", "--json"], env)
    assert drained.exit_code == 0, drained.output
    assert orjson.loads(drained.stdout) == {"backend": "s3", "moved": [image_id], "left": []}
    key = KeyLayout("").image_key(image_id, "png")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == PNG
    assert orjson.loads(run(["spool", "list", "--json"], env).stdout) == []
    text = run(["spool", "list"], env)
    assert "the spool is empty" in text.stdout


def test_drain_while_the_bucket_is_unreachable(env: dict[str, str]) -> None:
    image_id = spool_image(Path(env["STORAGE__SPOOL_DIR"]))
    down = {**env, "STORAGE__S3__ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    drained = run(["spool", "drain", "--json"], down)
    assert drained.exit_code == 1
    error = orjson.loads(drained.stdout)["error"]
    assert error["code"] == "storage_error"
    assert "cannot reach" in error["message"]
    listed = run(["spool", "list", "--json"], down)  # listing needs no bucket
    assert [entry["id"] for entry in orjson.loads(listed.stdout)] == [image_id]


def test_cli_generates_into_and_serves_from_the_bucket(env: dict[str, str], bucket: str, s3: Any) -> None:
    generated = run(["generate", "a lighthouse at dusk", "--size", "64x64", "--json"], env)
    assert generated.exit_code == 0, generated.output
    image = orjson.loads(generated.stdout)["images"][0]
    assert image["path"] is None
    assert f"/{bucket}/" in image["url"] and "X-Amz-Signature=" in image["url"]
    stored = s3.get_object(Bucket=bucket, Key=KeyLayout("").image_key(image["id"], "png"))["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == image["sha256"]
    got = orjson.loads(run(["get", image["id"], "--json"], env).stdout)["images"][0]
    assert got["sha256"] == image["sha256"]
    assert [item["id"] for item in orjson.loads(run(["list", "--json"], env).stdout)] == [image["id"]]
    assert run(["delete", image["id"]], env).exit_code == 0
    missing = run(["get", image["id"], "--json"], env)
    assert missing.exit_code == 1
    assert orjson.loads(missing.stdout)["error"]["code"] == "not_found"
