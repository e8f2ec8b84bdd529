"""The CLI as a user runs it (a subprocess configured only by the environment) against the faked
providers and S3: images go to the bucket, are read back and deleted through it, and an image paid
for while the bucket is down waits in the spool, readable by id, until ``imagegate spool drain``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .support import CliRun, run_cli, s3_client


async def imagegate(env: dict[str, str], *args: str) -> CliRun:
    return await run_cli({**env, "IMAGEGATE_DISABLE_PLUGINS": "observability"}, *args)


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    listing = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


async def test_generate_get_list_delete_through_the_bucket(s3_env: dict[str, str], moto_server: Any, bucket: str,
                                                           fake_replicate: Any, tmp_path: Path) -> None:
    import aiohttp

    made = await imagegate(s3_env, "generate", "a lighthouse", "-m", "flux-dev", "--param", "output_format=png",
                           "--json")
    assert made.returncode == 0, made.stderr
    image = made.json()["images"][0]
    assert len(fake_replicate.creates) == 1 and fake_replicate.schema_errors == []
    assert image["path"] is None  # nothing on this machine's disk: the bucket holds it
    assert image["url"].startswith(f"{moto_server.url}/{bucket}/")
    keys = bucket_keys(moto_server.url, bucket)
    assert [Path(key).name for key in keys] == [f"{image['id']}.json", f"{image['id']}.png"]
    async with aiohttp.ClientSession() as http, http.get(image["url"]) as response:
        data = await response.read()
    assert response.status == 200 and data.startswith(b"\x89PNG") and len(data) == image["bytes"]
    assert not (tmp_path / "images").exists() and not list((tmp_path / "spool").rglob("*.png"))

    got = await imagegate(s3_env, "get", image["id"], "--json")
    assert got.returncode == 0, got.stderr
    assert got.json()["images"][0]["sha256"] == image["sha256"]
    listed = await imagegate(s3_env, "list", "--json")
    assert [item["id"] for item in listed.json()] == [image["id"]]
    deleted = await imagegate(s3_env, "delete", image["id"], "--json")
    assert deleted.json() == {"id": image["id"], "deleted": True}
    assert bucket_keys(moto_server.url, bucket) == []


async def test_a_bucket_outage_keeps_the_paid_image_until_drained(s3_env: dict[str, str], moto_server: Any,
                                                                  bucket: str, fake_openai: Any) -> None:
    """The bucket goes away while OpenAI is generating (after the CLI checked it at start-up)."""
    from imagegate_storage_s3.testing import S3Front

    front = await S3Front(moto_server.url).start()
    try:
        down = {**s3_env, "STORAGE__S3__ENDPOINT_URL": front.url, "STORAGE__S3__CONNECT_TIMEOUT_S": "2"}
        fake_openai.hang(True)
        run = asyncio.create_task(imagegate(down, "generate", "keep me", "-m", "gpt-image-2.6-sunburst", "--json"))
        async with asyncio.timeout(60):
            while fake_openai.call_count == 0:
                await asyncio.sleep(0.02)
        await front.stop()
        fake_openai.hang(False)
        failed = await run
    finally:
        await front.stop()
    assert failed.returncode == 1, failed.stderr
    error = failed.json()["error"]
    assert (error["code"], error["retryable"]) == ("storage_error", True)
    assert fake_openai.call_count == 1  # paid once; the storage failure was not retried upstream
    (image_id,) = error["image_ids"]
    assert Path(error["spool_path"]).is_file() and Path(error["spool_path"]).stem == image_id

    waiting = await imagegate(down, "get", image_id, "--json")
    assert waiting.returncode == 0, waiting.stderr
    assert waiting.json()["images"][0]["path"] == error["spool_path"]
    listed = await imagegate(down, "spool", "list", "--json")
    assert [entry["id"] for entry in listed.json()] == [image_id]

    drained = await imagegate(s3_env, "spool", "drain", "--json")  # the bucket is reachable again
    assert drained.returncode == 0, drained.stderr
    assert drained.json() == {"backend": "s3", "moved": [image_id], "left": []}
    assert not Path(error["spool_path"]).exists()
    assert f"{image_id}.png" in [Path(key).name for key in bucket_keys(moto_server.url, bucket)]
    served = await imagegate(s3_env, "get", image_id, "--json")
    assert served.json()["images"][0]["url"].startswith(f"{moto_server.url}/{bucket}/")
