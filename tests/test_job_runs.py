"""Every request is a recorded job: its record, idempotency keys, owners, purge, restart takeover."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from imagegate._errors import InvalidRequest, NotFound, Unavailable, UpstreamError
from imagegate._job_runs import owner_of
from imagegate.testing import FakeSleep, until

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



PEER = {"host": "another-machine", "pid": 1, "id": "peer"}


async def orphan(gateway: Any, job_id: str, status: str = "queued") -> None:
    """A job recorded by process ``PEER`` (on another machine: only its heartbeat tells it lives)."""
    done = (await gateway.jobs.list("local", 1))[0]
    await gateway.jobs.store.create({
        **done, "id": job_id, "status": status, "runner": PEER, "result": None, "finished_at": None,
        "cost": {"estimated_usd": 0.1 if status == "running" else None, "actual_usd": None}})


class CountedBeats:
    """Wraps a store's heartbeat: counts the beats, and awaits ``before(n)`` ahead of beat ``n``."""

    def __init__(self, store: Any, before: Any = None) -> None:
        self.beats = 0
        self._heartbeat = store.heartbeat
        self._before = before
        store.heartbeat = self

    async def __call__(self, runner: str, ttl_s: float) -> set[str]:
        self.beats += 1
        if self._before is not None:
            await self._before(self.beats)
        return await self._heartbeat(runner, ttl_s)  # type: ignore[no-any-return]


async def ended(store: Any, job_id: str) -> dict[str, Any] | None:
    record = await store.get(job_id)
    return record if record is not None and record["status"] not in {"queued", "running"} else None


async def test_a_serving_gateway_takes_over_a_peer_s_jobs_once_its_heartbeat_lapses(tmp_path: Path) -> None:
    provider = Scripted()
    gateway, _ = await make(tmp_path, provider, FakeSleep(), jobs={"heartbeat_s": 0.02})
    try:
        await gateway.run("generate", REQUEST)
        store = gateway.jobs.store
        await store.heartbeat("peer", 60.0)
        await orphan(gateway, "job_queued")
        await orphan(gateway, "job_running", "running")
        beats = CountedBeats(store)
        await until(lambda: beats.beats >= 5)  # five sweeps while the peer lives
        assert {(await store.get(j))["runner"]["id"] for j in ("job_queued", "job_running")} == {"peer"}

        await store.heartbeat("peer", 0.0)  # its beat lapses: presumed dead
        queued = await until(lambda: ended(store, "job_queued"))
        running = await until(lambda: ended(store, "job_running"))
    finally:
        await gateway.aclose()
    assert queued["status"] == "succeeded" and len(provider.calls) == 2  # the first run, then the queued job
    assert queued["runner"] == gateway.jobs.runner
    assert running["status"] == "failed" and running["reason"] == "interrupted"
    assert running["cost"]["estimated_usd"] == 0.1


async def test_of_two_serving_gateways_each_orphan_is_taken_by_exactly_one(tmp_path: Path) -> None:
    provider = Scripted()
    first, _ = await make(tmp_path, provider, FakeSleep(), jobs={"heartbeat_s": 0.01})
    second, _ = await make(tmp_path, provider, FakeSleep(), jobs={"heartbeat_s": 0.01})  # one SQLite file
    try:
        await first.run("generate", REQUEST)
        for n in range(8):
            await orphan(first, f"job_orphan{n}")
        records = [await until(lambda n=n: ended(first.jobs.store, f"job_orphan{n}")) for n in range(8)]
    finally:
        await first.aclose()
        await second.aclose()
    assert {record["status"] for record in records} == {"succeeded"}
    assert len(provider.calls) == 1 + 8  # no orphan ran twice
    assert {record["runner"]["id"] for record in records} <= {first.jobs.runner["id"], second.jobs.runner["id"]}


async def test_after_its_own_beat_failed_a_gateway_takes_nothing_over_for_three_beats(tmp_path: Path) -> None:
    gateway, _ = await make(tmp_path, Scripted(), FakeSleep(), jobs={"heartbeat_s": 0.01})
    seen: dict[int, str] = {}

    async def before(beat: int) -> None:
        if beat == 1:
            await orphan(gateway, "job_orphan")  # its runner is dead from the start
            raise Unavailable("the job store is unreachable", retryable=True)
        seen[beat] = (await gateway.jobs.store.get("job_orphan"))["runner"]["id"]

    try:
        await gateway.run("generate", REQUEST)
        beats = CountedBeats(gateway.jobs.store, before)
        record = await until(lambda: ended(gateway.jobs.store, "job_orphan"))
        await until(lambda: beats.beats >= 7)
    finally:
        await gateway.aclose()
    assert record["status"] == "succeeded"
    assert [seen[beat] for beat in (2, 3, 4, 5)] == ["peer"] * 4  # beats 2-4 quiet; 5 sweeps after its beat
    assert seen[6] == gateway.jobs.runner["id"]



async def test_a_process_of_another_pid_namespace_on_this_host_is_judged_by_its_heartbeat(tmp_path: Path) -> None:
    """Containers may share a host name (host networking) but not their pids: the pid there means
    nothing here, so its jobs are taken over when its heartbeat lapses, not by a look at the pid."""
    from imagegate._job_runs import _HOST

    gateway, _ = await make(tmp_path, Scripted(), FakeSleep(), jobs={"heartbeat_s": 0.01})
    neighbour = {"host": _HOST, "pidns": -1, "pid": 1, "id": "neighbour"}  # pid 1 lives here
    try:
        await gateway.run("generate", REQUEST)
        done = (await gateway.jobs.list("local", 1))[0]
        await gateway.jobs.store.create({**done, "id": "job_neighbours", "status": "queued", "runner": neighbour,
                                         "result": None, "finished_at": None})
        record = await until(lambda: ended(gateway.jobs.store, "job_neighbours"))
    finally:
        await gateway.aclose()
    assert record["status"] == "succeeded" and record["runner"] == gateway.jobs.runner


async def test_a_queued_job_another_gateway_took_over_runs_there_and_its_caller_here_gets_the_result(
        tmp_path: Path) -> None:
    """A gateway presumed dead (a stall) whose queued job another one claimed does not run it too:
    its watcher sees the new runner before the first attempt, and the waiting caller gets the
    result the other gateway made."""
    held = Scripted()
    held.gate = asyncio.Event()
    here, _ = await make(tmp_path, held, None, providers={"fake": {"max_retries": 3, "max_concurrency": 1}})  # type: ignore[arg-type]
    other = Scripted()
    there, _ = await make(tmp_path, other, FakeSleep())  # the same jobs.sqlite3

    async def queued() -> dict[str, Any] | None:
        return next((job for job in await here.jobs.list("local", 5)
                     if job["parameters"]["prompt"] == "second" and job["status"] == "queued"), None)

    try:
        first = asyncio.ensure_future(here.run("generate", REQUEST))
        await until(lambda: held.calls)  # it holds the only slot
        second = asyncio.ensure_future(here.run("generate", REQUEST.model_copy(update={"prompt": "second"})))
        job = await until(queued)
        await there.jobs._take_over(job["id"], job["runner"])  # as if it had presumed `here` dead
        result = await asyncio.wait_for(second, 10)
        held.gate.set()
        await first
        record = await there.jobs.get(job["id"], "local")
    finally:
        held.gate.set()
        await here.aclose()
        await there.aclose()
    assert (len(held.calls), len(other.calls)) == (1, 1)  # each job ran once, the second one there
    assert record["status"] == "succeeded" and record["runner"] == there.jobs.runner
    assert [image.id for image in result.images] == [image["id"] for image in record["result"]["images"]]


async def test_a_job_canceled_while_waiting_for_its_provider_slot_is_never_sent(tmp_path: Path) -> None:
    """Nothing was paid before the first attempt, so nothing is finished in the background: the
    canceled job's call is not made when the slot frees up (a provider that cannot cancel alike)."""
    held = Scripted()  # not cancellable: work it started is finished in the background
    held.gate = asyncio.Event()
    gateway, _ = await make(tmp_path, held, None, providers={"fake": {"max_retries": 3, "max_concurrency": 1}})  # type: ignore[arg-type]
    try:
        first = asyncio.ensure_future(gateway.run("generate", REQUEST))
        await until(lambda: held.calls)  # it holds the only slot
        waiting = await gateway.jobs.submit("generate", REQUEST.model_copy(update={"prompt": "second"}), owner="local")
        canceled = await gateway.jobs.cancel(waiting.record["id"], "local")
        held.gate.set()
        await first
        await gateway.settle()  # whatever went on in the background is done
    finally:
        held.gate.set()
        await gateway.aclose()
    assert canceled["status"] == "canceled" and canceled["cost"]["estimated_usd"] is None
    assert len(held.calls) == 1


async def test_a_round_that_fails_unexpectedly_does_not_stop_the_heartbeat(tmp_path: Path) -> None:
    gateway, _ = await make(tmp_path, Scripted(), FakeSleep(), jobs={"heartbeat_s": 0.01})

    async def before(beat: int) -> None:
        if beat == 1:
            raise KeyError("a bug in one round")

    try:
        beats = CountedBeats(gateway.jobs.store, before)
        await until(lambda: beats.beats >= 4)
    finally:
        await gateway.aclose()
    assert beats.beats >= 4  # the rounds after the failed one still beat
