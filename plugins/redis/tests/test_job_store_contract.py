"""The JobStore contract, held by the embedded SQLite store and the Redis store alike."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from imagegate import JobStore
from imagegate._job_store import SqliteJobStore
from imagegate_redis.job_store import RedisJobStore
from imagegate_redis.settings import RedisSettings
from imagegate_redis.testing import RedisServer

_IDS = itertools.count()


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path, prefix: str) -> AsyncIterator[JobStore]:
    if request.param == "sqlite":
        made: JobStore = SqliteJobStore(tmp_path / "jobs.sqlite3")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        made = RedisJobStore(RedisSettings(url=server.url, prefix=prefix))
    try:
        yield made
    finally:
        await made.aclose()


def job(owner: str = "key_a", *, created_at: float = 1000.0, status: str = "queued", key: str | None = None,
        **fields: Any) -> dict[str, Any]:
    return {"id": f"job_{next(_IDS):06d}", "object": "image.job", "owner": owner, "idempotency_key": key,
            "status": status, "created_at": created_at, "cost": {"estimated_usd": None, "actual_usd": None},
            "parameters": {"prompt": "a cat", "n": 1}, "result": None, **fields}


async def test_it_follows_the_protocol(store: JobStore) -> None:
    assert isinstance(store, JobStore)


async def test_a_created_job_reads_back_as_written(store: JobStore) -> None:
    record = job(created_at=1764921423.123456, runner={"host": "h", "pid": 7})
    assert await store.create(record) == record
    assert await store.get(record["id"]) == record
    assert await store.get("job_missing") is None


async def test_an_idempotency_key_finds_the_first_job_of_its_owner_only(store: JobStore) -> None:
    first = job(key="k", fingerprint="d1")
    assert await store.create(first) == first
    assert await store.create(job(key="k", fingerprint="d2")) == first
    other = job("key_b", key="k")
    assert await store.create(other) == other
    assert [r["id"] for r in await store.list("key_a", 10)] == [first["id"]]


async def test_of_concurrent_creates_with_one_key_exactly_one_wins(store: JobStore) -> None:
    records = [job(key="race") for _ in range(20)]
    found = await asyncio.gather(*(store.create(record) for record in records))
    winners = {record["id"] for record in found}
    assert len(winners) == 1 and winners <= {record["id"] for record in records}
    assert len(await store.list("key_a", 50)) == 1


async def test_update_merges_fields_and_is_conditional_on_the_status(store: JobStore) -> None:
    record = await store.create(job())
    assert await store.update(record["id"], {"status": "running", "model": "m", "upstream": {"id": "p1"}})
    assert not await store.update(record["id"], {"status": "failed"}, only_if=("queued",))
    assert await store.update(record["id"], {"status": "canceled", "finished_at": 5.0}, only_if=("queued", "running"))
    assert not await store.update(record["id"], {"status": "succeeded"}, only_if=("queued", "running"))
    assert not await store.update("job_missing", {"status": "running"})
    stored = await store.get(record["id"])
    assert stored == {**record, "status": "canceled", "model": "m", "upstream": {"id": "p1"}, "finished_at": 5.0}


async def test_of_concurrent_conditional_updates_exactly_one_applies(store: JobStore) -> None:
    record = await store.create(job(status="running"))
    applied = await asyncio.gather(*(store.update(record["id"], {"status": "canceled", "by": n}, only_if=("running",))
                                     for n in range(10)))
    assert applied.count(True) == 1
    stored = await store.get(record["id"])
    assert stored is not None and stored["by"] == applied.index(True)


async def test_list_is_the_owners_jobs_newest_first_with_a_cursor(store: JobStore) -> None:
    made = [await store.create(job(created_at=1000.0 + n // 2)) for n in range(7)]  # pairs share a time
    await store.create(job("key_b", created_at=5000.0))
    newest_first = sorted(made, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    page = await store.list("key_a", 3)
    assert [r["id"] for r in page] == [r["id"] for r in newest_first[:3]]
    page = await store.list("key_a", 3, before=page[-1]["id"])
    assert [r["id"] for r in page] == [r["id"] for r in newest_first[3:6]]
    page = await store.list("key_a", 3, before=page[-1]["id"])
    assert [r["id"] for r in page] == [newest_first[6]["id"]]
    assert await store.list("key_a", 3, before=newest_first[6]["id"]) == []
    assert await store.list("nobody", 3) == []


async def test_unfinished_lists_queued_and_running_jobs_oldest_first(store: JobStore) -> None:
    later = await store.create(job(created_at=2000.0))
    earlier = await store.create(job(created_at=1000.0, status="running"))
    done = await store.create(job(created_at=500.0, status="succeeded"))
    assert [r["id"] for r in await store.unfinished()] == [earlier["id"], later["id"]]
    await store.update(later["id"], {"status": "failed"})
    await store.update(done["id"], {"status": "running"})
    assert [r["id"] for r in await store.unfinished()] == [done["id"], earlier["id"]]


async def test_purge_deletes_finished_jobs_older_than_the_cut_and_frees_their_keys(store: JobStore) -> None:
    old_done = await store.create(job(created_at=100.0, status="succeeded", key="k"))
    old_running = await store.create(job(created_at=100.0, status="running"))
    new_done = await store.create(job(created_at=900.0, status="failed"))
    assert await store.purge(500.0) == 1
    assert await store.get(old_done["id"]) is None
    assert await store.get(old_running["id"]) is not None and await store.get(new_done["id"]) is not None
    assert [r["id"] for r in await store.list("key_a", 10)] == [new_done["id"], old_running["id"]]
    again = job(key="k")
    assert await store.create(again) == again
    assert await store.purge(500.0) == 0


async def test_a_heartbeat_keeps_its_runner_alive_until_it_lapses(store: JobStore) -> None:
    assert await store.heartbeat("r1", 30.0) == {"r1"}
    assert await store.heartbeat("r2", 0.2) == {"r1", "r2"}
    await asyncio.sleep(0.3)  # r2's beat lapses (the store's clock decides, so this waits for real)
    assert await store.heartbeat("r1", 30.0) == {"r1"}
    assert await store.heartbeat("r2", 30.0) == {"r1", "r2"}  # a late beat revives it


async def test_a_claim_takes_an_unfinished_job_from_the_runner_it_names_once(store: JobStore) -> None:
    record = await store.create(job(status="running", runner={"host": "h", "pid": 7, "id": "dead"}))
    mine = {"host": "h", "pid": 8, "id": "me"}
    assert await store.claim(record["id"], mine, previous="other") is None
    claimed = await store.claim(record["id"], mine, previous="dead")
    assert claimed == {**record, "runner": mine}
    assert await store.get(record["id"]) == claimed
    assert await store.claim(record["id"], {"id": "late"}, previous="dead") is None  # already taken
    assert await store.claim("job_missing", mine, previous="dead") is None


async def test_a_claim_takes_jobs_of_runners_without_an_id_and_never_finished_ones(store: JobStore) -> None:
    legacy = await store.create(job(runner={"host": "h", "pid": 7}))
    orphan = await store.create(job(runner=None))
    done = await store.create(job(status="succeeded", runner={"host": "h", "pid": 7, "id": "dead"}))
    assert (await store.claim(legacy["id"], {"id": "me"}, previous=None) or {}).get("runner") == {"id": "me"}
    assert (await store.claim(orphan["id"], {"id": "me"}, previous=None) or {}).get("runner") == {"id": "me"}
    assert await store.claim(done["id"], {"id": "me"}, previous="dead") is None


async def test_of_concurrent_claims_of_one_job_exactly_one_wins(store: JobStore) -> None:
    record = await store.create(job(status="running", runner={"id": "dead"}))
    claims = await asyncio.gather(*(store.claim(record["id"], {"id": f"r{n}"}, previous="dead") for n in range(10)))
    winners = [claimed for claimed in claims if claimed is not None]
    assert len(winners) == 1
    assert (await store.get(record["id"]) or {})["runner"] == winners[0]["runner"]


async def test_list_of_no_owner_is_every_owner_s_jobs_newest_first(store: JobStore) -> None:
    made = [await store.create(job(owner, created_at=1000.0 + n)) for n, owner in enumerate(["key_a", "key_b"] * 2)]
    newest_first = [record["id"] for record in reversed(made)]
    assert [r["id"] for r in await store.list(None, 10)] == newest_first
    assert [r["id"] for r in await store.list(None, 2, before=newest_first[1])] == newest_first[2:]


async def test_runners_are_those_of_unfinished_jobs_by_id(store: JobStore) -> None:
    running = await store.create(job(status="running", runner={"host": "h", "pid": 7, "id": "r1"}))
    queued = await store.create(job(runner=None))
    await store.create(job(status="succeeded", runner={"host": "h", "pid": 7, "id": "r1"}))
    legacy = await store.create(job())  # no runner field at all
    assert await store.runners() == {running["id"]: {"host": "h", "pid": 7, "id": "r1"}, queued["id"]: None,
                                     legacy["id"]: None}
