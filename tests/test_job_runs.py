"""Every request is a recorded job: its record, idempotency keys, owners, purge, restart takeover."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from imagegate._errors import InvalidRequest, NotFound, UpstreamError
from imagegate._job_runs import owner_of
from imagegate.testing import FakeSleep

from .pipeline_support import REQUEST, Scripted, make
from .process_support import dead_pid


async def test_a_sync_request_records_a_succeeded_job(tmp_path: Path) -> None:
    gateway, _ = await make(tmp_path, Scripted(), FakeSleep())
    try:
        result = await gateway.run("generate", REQUEST, owner=owner_of("k1"))
        [record] = await gateway.jobs.list(owner_of("k1"), 10)
    finally:
        await gateway.aclose()
    assert record["id"].startswith("job_") and record["status"] == "succeeded"
    assert record["model"] == "fake-model" and record["operation"] == "generate"
    assert record["parameters"]["prompt"] == "a cat"
    assert record["cost"] == {"estimated_usd": 0.1, "actual_usd": None}
    assert [image["id"] for image in record["result"]["images"]] == [image.id for image in result.images]
    assert record["started_at"] <= record["finished_at"]
    assert (tmp_path / "jobs.sqlite3").exists()  # beside the spool, in the test's folder
    public = gateway.jobs.public(record)
    assert "owner" not in public and "request" not in public and public["object"] == "image.job"


async def test_a_failed_request_records_the_error_and_what_was_paid(tmp_path: Path) -> None:
    gateway, _ = await make(tmp_path, Scripted([UpstreamError("bad", retryable=False)]), FakeSleep())
    try:
        with pytest.raises(UpstreamError):
            await gateway.run("generate", REQUEST)
        [record] = await gateway.jobs.list("local", 10)
    finally:
        await gateway.aclose()
    assert record["status"] == "failed" and record["error"]["code"] == "upstream_error"
    assert record["error"]["type"] == "upstream_error" and record["cost"]["estimated_usd"] == 0.1


async def test_an_idempotent_repeat_gets_the_same_images_without_a_second_call(tmp_path: Path) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    try:
        first = await gateway.run("generate", REQUEST, idempotency_key="k", digest="d1")
        again = await gateway.run("generate", REQUEST, idempotency_key="k", digest="d1", keep_base64=True)
        with pytest.raises(InvalidRequest) as mismatch:
            await gateway.run("generate", REQUEST, idempotency_key="k", digest="d2")
        other_owner = await gateway.run("generate", REQUEST, owner="someone", idempotency_key="k", digest="d1")
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 2  # the first request and the other owner's
    assert [i.id for i in again.images] == [i.id for i in first.images]
    assert again.images[0].data == provider.data
    assert mismatch.value.param == "Idempotency-Key"
    assert other_owner.images[0].id != first.images[0].id


async def test_concurrent_repeats_make_one_upstream_call(tmp_path: Path) -> None:
    provider = Scripted()
    provider.gate = asyncio.Event()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    try:
        runs = [asyncio.ensure_future(gateway.run("generate", REQUEST, idempotency_key="k", digest="d"))
                for _ in range(3)]
        while not provider.calls:
            await asyncio.sleep(0.01)
        provider.gate.set()
        results = await asyncio.gather(*runs)
    finally:
        await gateway.aclose()
    assert len(provider.calls) == 1
    assert len({result.images[0].id for result in results}) == 1


async def test_another_owners_job_is_not_found(tmp_path: Path) -> None:
    gateway, _ = await make(tmp_path, Scripted(), FakeSleep())
    try:
        submitted = await gateway.jobs.submit("generate", REQUEST, owner=owner_of("a"))
        await submitted.task
        assert (await gateway.jobs.get(submitted.record["id"], owner_of("a")))["status"] == "succeeded"
        with pytest.raises(NotFound):
            await gateway.jobs.get(submitted.record["id"], owner_of("b"))
    finally:
        await gateway.aclose()


async def test_cancel_stops_a_running_job(tmp_path: Path) -> None:
    provider = Scripted(cancellable=True)
    provider.gate = asyncio.Event()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    try:
        submitted = await gateway.jobs.submit("generate", REQUEST, owner="o")
        running = await gateway.jobs.wait(submitted.record["id"], "o", 0)
        while not provider.calls:
            await asyncio.sleep(0.01)
        record = await gateway.jobs.cancel(submitted.record["id"], "o")
    finally:
        await gateway.aclose()
    assert running["status"] in {"queued", "running"}
    assert record["status"] == "canceled" and provider.cancelled


async def test_finished_jobs_past_retention_are_purged(tmp_path: Path) -> None:
    gateway, _ = await make(tmp_path, Scripted(), FakeSleep(), jobs={"retention_h": 1})
    try:
        await gateway.run("generate", REQUEST)
        [record] = await gateway.jobs.list("local", 10)
        assert await gateway.jobs.purge() == 0
        fresh = await gateway.jobs.store.create({**record, "id": "job_old", "created_at": time.time() - 7200})
        assert fresh["id"] == "job_old"
        assert await gateway.jobs.purge() == 1
        assert [r["id"] for r in await gateway.jobs.list("local", 10)] == [record["id"]]
    finally:
        await gateway.aclose()


async def test_jobs_a_dead_process_left_are_taken_over(tmp_path: Path) -> None:
    gateway, _ = await make(tmp_path, Scripted(), FakeSleep())
    await gateway.run("generate", REQUEST)
    [done] = await gateway.jobs.list("local", 10)
    await gateway.aclose()
    dead = {"host": done["runner"]["host"], "pid": dead_pid()}
    base = {**done, "runner": dead, "result": None, "finished_at": None}
    store = gateway.jobs.store
    await store.create({**base, "id": "job_queued", "status": "queued", "started_at": None})
    await store.create({**base, "id": "job_running", "status": "running",
                        "cost": {"estimated_usd": 0.1, "actual_usd": None}})
    await store.create({**base, "id": "job_alive", "status": "running", "runner": {**dead, "pid": 1}})

    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, FakeSleep())
    try:
        queued = await gateway.jobs.wait("job_queued", "local", 10)
        running = await gateway.jobs.get("job_running", "local")
        alive = await gateway.jobs.get("job_alive", "local")
    finally:
        await gateway.aclose()
    assert queued["status"] == "succeeded" and len(provider.calls) == 1
    assert running["status"] == "failed" and running["reason"] == "interrupted"
    assert running["error"]["code"] == "unavailable" and running["cost"]["estimated_usd"] == 0.1
    assert alive["status"] == "running"  # its process still lives: not ours to take


async def test_a_job_canceled_by_another_process_sharing_the_store_stops_where_it_runs(tmp_path: Path) -> None:
    provider = Scripted(cancellable=True)
    provider.gate = asyncio.Event()
    runner, _ = await make(tmp_path, provider, FakeSleep())
    other, _ = await make(tmp_path, Scripted(), FakeSleep())  # same jobs.sqlite3, no task of that job
    try:
        submitted = await runner.jobs.submit("generate", REQUEST, owner="o")
        while not provider.calls:
            await asyncio.sleep(0.01)
        record = await other.jobs.cancel(submitted.record["id"], "o")
        assert record["status"] == "canceled"
        done, _ = await asyncio.wait([submitted.task], timeout=5)
        assert done and submitted.task.cancelled() and provider.cancelled
    finally:
        provider.gate.set()
        await runner.aclose()
        await other.aclose()
    assert (await runner.jobs.store.get(record["id"]))["status"] == "canceled"
