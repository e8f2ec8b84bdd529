"""The conformance suite every provider and storage plugin runs against itself.

Subclass in your plugin's tests and provide one fixture:

* :class:`ProviderConformance` needs ``provider_target`` returning a :class:`ProviderTarget`
  (a gateway wired to your fake upstream, and knobs on that fake);
* :class:`StorageConformance` needs ``storage`` yielding a fresh, empty backend;
* :class:`KeyStoreConformance` needs ``key_stores`` yielding two stores on one fresh, empty
  backend (two processes' or replicas' views of it);
* :class:`JobStoreConformance` needs ``job_store`` yielding a fresh, empty job store.

The rules: a bad parameter fails ``invalid_request`` before any upstream call; each upstream
failure maps to its code; cancelling stops upstream work (or, where a sent request is already paid
for, the work is finished and stored); stored images carry every metadata field and read back byte
for byte; storage writes are atomic and never overwrite; ids cannot reach outside the store; key stores
find keys by digest, refuse a taken name, and never let concurrent reservations pass a budget; job
stores keep one job per idempotency key, update and claim atomically, and tell live runners apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from .._errors import ImagegateError, InvalidRequest, NotFound
from .._ids import new_image_id
from .._job_store import JobStore
from .._keys import AuthFailures, KeyRates, KeyStore, VirtualKey, key_digest
from .._models import ImageRequest
from .._storage import Saved, StoredEntry

if TYPE_CHECKING:
    from .._gateway import Gateway
    from .._storage import Storage

__all__ = ["REQUIRED_METADATA", "JobStoreConformance", "KeyStoreConformance", "ProviderConformance", "ProviderTarget",
           "StorageConformance"]

REQUIRED_METADATA = frozenset({
    "id", "prompt", "revised_prompt", "model", "provider", "operation", "parameters", "created", "sha256",
    "bytes", "mime_type", "width", "height", "seed", "timings", "cost", "request_id",
    "provider_request_id", "model_version", "extension",
})


@dataclass
class ProviderTarget:
    """A gateway wired to a provider's fake upstream, and the knobs of that fake.

    ``fail_with(code)`` makes every following upstream call fail the way the real service fails
    for that error code; ``codes`` lists the codes the provider maps. ``hang()`` makes the upstream
    never finish; ``release()`` lets it finish; ``cancelled()`` says whether the upstream saw a
    cancel. Leave a knob None where the provider has no such behaviour.
    """

    gateway: Gateway
    valid: ImageRequest
    invalid: ImageRequest
    upstream_calls: Callable[[], int]
    fail_with: Callable[[str], None] | None = None
    codes: list[str] = field(default_factory=list)
    hang: Callable[[], None] | None = None
    release: Callable[[], None] | None = None
    cancelled: Callable[[], bool] | None = None
    operation: str = "generate"


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll until ``predicate`` holds (readiness without fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            msg = "condition not reached in time"
            raise AssertionError(msg)
        await asyncio.sleep(0.01)


async def _until_async(read: Callable[[], Any], expected: Any, timeout: float = 10.0) -> None:
    """Poll until ``await read()`` is ``expected``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await read() != expected:
        if loop.time() > deadline:
            msg = f"{expected!r} not read in time"
            raise AssertionError(msg)
        await asyncio.sleep(0.01)


class ProviderConformance:
    """Rules every provider plugin holds to; needs a ``provider_target`` fixture."""

    async def test_bad_parameter_fails_before_any_upstream_call(self, provider_target: ProviderTarget) -> None:
        before = provider_target.upstream_calls()
        with pytest.raises(InvalidRequest) as caught:
            await provider_target.gateway.run(provider_target.operation, provider_target.invalid)  # type: ignore[arg-type]
        assert caught.value.code == "invalid_request"
        assert caught.value.param
        assert provider_target.upstream_calls() == before

    async def test_upstream_failures_map_to_their_codes(self, provider_target: ProviderTarget) -> None:
        if provider_target.fail_with is None or not provider_target.codes:
            pytest.skip("this provider has no upstream failures to map")
        for code in provider_target.codes:
            provider_target.fail_with(code)
            with pytest.raises(ImagegateError) as caught:
                await provider_target.gateway.run(provider_target.operation, provider_target.valid)  # type: ignore[arg-type]
            assert caught.value.code == code, f"upstream failure for {code} became {caught.value.code}"
            assert caught.value.provider

    async def test_cancellation_stops_or_finishes_upstream_work(self, provider_target: ProviderTarget) -> None:
        target = provider_target
        if target.hang is None:
            pytest.skip("this provider's upstream cannot be made to hang")
        target.hang()
        before = target.upstream_calls()
        task = asyncio.ensure_future(target.gateway.run(target.operation, target.valid))  # type: ignore[arg-type]
        await _until(lambda: target.upstream_calls() > before)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gateway = target.gateway
        if gateway.registry.providers[(await gateway.resolve_model(target.valid.model)).provider].cancellable:
            assert target.cancelled is not None, "a cancellable provider's fake must report cancels"
            await _until(target.cancelled)
            return
        assert target.release is not None, "a non-cancellable provider's fake must be releasable"
        stored_before = len(await gateway.list(limit=1000))
        target.release()
        await gateway.settle()
        assert len(await gateway.list(limit=1000)) > stored_before, "paid-for work was not stored"

    async def test_stored_images_have_metadata_and_read_back(self, provider_target: ProviderTarget) -> None:
        result = await provider_target.gateway.run(provider_target.operation, provider_target.valid)  # type: ignore[arg-type]
        assert result.images
        for image in result.images:
            metadata = await provider_target.gateway.metadata(image.id)
            assert REQUIRED_METADATA <= set(metadata), REQUIRED_METADATA - set(metadata)
            data = await provider_target.gateway.read(image.id)
            assert hashlib.sha256(data).hexdigest() == image.sha256 == metadata["sha256"]
            assert len(data) == image.bytes == metadata["bytes"]


def _metadata(image_id: str, data: bytes, extension: str = "png") -> dict[str, Any]:
    return {
        "id": image_id, "extension": extension, "mime_type": "image/png", "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "width": 1, "height": 1, "prompt": "p",
    }


class StorageConformance:
    """Rules every storage backend holds to; needs a ``storage`` fixture (fresh and empty)."""

    payload = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64

    async def test_save_reads_back_byte_for_byte(self, storage: Storage) -> None:
        image_id = new_image_id()
        await storage.save(image_id, self.payload, _metadata(image_id, self.payload))
        assert await storage.read(image_id) == self.payload
        metadata = await storage.metadata(image_id)
        assert metadata["sha256"] == hashlib.sha256(self.payload).hexdigest()
        assert metadata["id"] == image_id

    async def test_save_returns_saved_and_leaves_the_callers_metadata_alone(self, storage: Storage) -> None:
        image_id = new_image_id()
        metadata = _metadata(image_id, self.payload)
        if getattr(storage, "computes_sha256", False):
            metadata["sha256"] = None  # the backend promises to hash while it writes
        given = dict(metadata)
        saved = await storage.save(image_id, self.payload, metadata)
        assert isinstance(saved, Saved)
        assert metadata == given
        digest = hashlib.sha256(self.payload).hexdigest()
        assert saved.sha256 in (None, digest) and (await storage.metadata(image_id))["sha256"] == digest
        if getattr(storage, "computes_sha256", False):
            assert saved.sha256 == digest

    async def test_never_overwrites(self, storage: Storage) -> None:
        image_id = new_image_id()
        await storage.save(image_id, self.payload, _metadata(image_id, self.payload))
        with pytest.raises(ImagegateError):
            await storage.save(image_id, b"other", _metadata(image_id, b"other"))
        assert await storage.read(image_id) == self.payload

    @pytest.mark.parametrize("bad_id", [
        "../../etc/passwd", "img_20260101_../../x", "%2e%2e/secret", "img_20260101_" + "a" * 25 + "/",
        "", "img_99999999_aaaaaaaaaaaaaaaaaaaaaaaaaa/../../x",
    ])
    async def test_ids_cannot_escape(self, storage: Storage, bad_id: str) -> None:
        with pytest.raises(NotFound):
            await storage.read(bad_id)
        with pytest.raises(NotFound):
            await storage.metadata(bad_id)

    async def test_unknown_id_is_not_found(self, storage: Storage) -> None:
        with pytest.raises(NotFound):
            await storage.read(new_image_id())

    async def test_list_and_delete(self, storage: Storage) -> None:
        ids = [new_image_id() for _ in range(3)]
        for image_id in ids:
            await storage.save(image_id, self.payload, _metadata(image_id, self.payload))
        listed = [item["id"] for item in await storage.list(limit=10)]
        assert sorted(listed) == sorted(ids)
        await storage.delete(ids[0])
        with pytest.raises(NotFound):
            await storage.read(ids[0])
        assert ids[0] not in [item["id"] for item in await storage.list(limit=10)]
        with pytest.raises(NotFound):
            await storage.delete(ids[0])

    async def test_inventory_has_each_image_with_its_size_and_time(self, storage: Storage) -> None:
        assert await storage.inventory() == []
        started = datetime.now(UTC)
        ids = [new_image_id() for _ in range(2)]
        for image_id in ids:
            await storage.save(image_id, self.payload, _metadata(image_id, self.payload))
        entries = {entry.image_id: entry for entry in await storage.inventory()}
        assert set(entries) == set(ids)
        slack = timedelta(seconds=5)  # S3 keeps whole seconds; clocks of servers drift a little
        for entry in entries.values():
            assert isinstance(entry, StoredEntry)
            assert len(self.payload) < entry.bytes < len(self.payload) + 4096  # image plus metadata
            assert started - slack <= entry.stored_at <= datetime.now(UTC) + slack
        await storage.delete(ids[0])
        assert [entry.image_id for entry in await storage.inventory()] == [ids[1]]

    async def test_url_is_fresh(self, storage: Storage) -> None:
        image_id = new_image_id()
        await storage.save(image_id, self.payload, _metadata(image_id, self.payload))
        url = await storage.url(image_id, 60)
        assert image_id in url

    async def test_readers_never_see_a_partial_image(self, storage: Storage) -> None:
        big = self.payload * 400  # ~6.5 MB
        image_id = new_image_id()
        seen: list[int] = []
        done = asyncio.Event()

        async def reader() -> None:
            while not done.is_set():
                try:
                    seen.append(len(await storage.read(image_id)))
                except NotFound:
                    seen.append(0)
                await asyncio.sleep(0)

        task = asyncio.ensure_future(reader())
        await storage.save(image_id, big, _metadata(image_id, big))
        done.set()
        await task
        assert all(size in (0, len(big)) for size in seen), "a reader saw a partial image"
        assert await storage.read(image_id) == big


class KeyStoreConformance:
    """Rules every virtual-key store holds to; needs ``key_stores``: two stores on one fresh, empty
    backend, as two processes or replicas see it."""

    async def test_it_follows_the_protocol(self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        assert all(isinstance(store, KeyStore) for store in key_stores)

    async def test_a_key_is_found_by_its_digest_from_either_store(self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        a, b = key_stores
        secret, key = VirtualKey.new("team-b", rpm=5, budget_usd=2.5, budget_period="day", models=["m1", "m2"])
        await a.add(key)
        await a.add(VirtualKey.new("team-a", admin=True)[1])
        assert await b.find(key_digest(secret)) == key
        assert await b.find(key_digest(secret + "x")) is None
        assert [found.name for found in await b.all()] == ["team-a", "team-b"]

    async def test_a_taken_name_is_refused_naming_it(self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        a, b = key_stores
        secret, key = VirtualKey.new("app")
        await a.add(key)
        with pytest.raises(InvalidRequest) as taken:
            await b.add(VirtualKey.new("app")[1])
        assert taken.value.param == "name" and "'app'" in taken.value.message
        assert await a.all() == [key] and await a.find(key_digest(secret)) == key

    async def test_a_revocation_is_seen_by_the_other_store_and_kept(self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        a, b = key_stores
        secret, key = VirtualKey.new("app")
        await a.add(key)
        revoked = await a.revoke("app")
        assert revoked.revoked_at is not None and revoked.model_copy(update={"revoked_at": None}) == key
        assert (await b.find(key_digest(secret))) == revoked
        assert (await b.revoke("app")).revoked_at == revoked.revoked_at  # revoking again changes nothing
        with pytest.raises(NotFound) as missing:
            await b.revoke("nobody")
        assert missing.value.param == "name"

    async def test_concurrent_reservations_never_pass_the_budget(self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        results = await asyncio.gather(*(key_stores[i % 2].reserve("app", "2026-12", 0.1, 1.0) for i in range(25)))
        assert results.count(None) == 10  # ten reservations of $0.10 fit in $1.00, the others are refused
        assert all(left is not None and 0 <= left < 0.1 + 1e-9 for left in results if left is not None)
        await key_stores[0].settle("app", "2026-12", 0.1, 0.04)
        [row] = await key_stores[1].usage("app")
        assert (row.name, row.period, row.spent_usd, row.reserved_usd, row.requests) == (
            "app", "2026-12", 0.04, 0.9, 10)

    async def test_settling_replaces_the_reservation_and_usage_is_newest_period_first(
            self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        a, b = key_stores
        assert await a.reserve("b", "2026-11", 0.5, None) is None  # no budget: never refused
        assert await a.reserve("a", "2026-12", 0.25, 1.0) is None
        assert await b.reserve("a", "2026-12", 0.25, 1.0) is None
        assert await b.reserve("a", "2026-12", 0.6, 1.0) == 0.5  # what is left, nothing reserved
        await b.settle("a", "2026-12", 0.25, 0.3)
        await a.settle("a", "2026-12", 0.25, 0.0)  # failed before paying: the reservation goes back
        await a.settle("b", "2026-11", 0.75, 0.5)  # more released than reserved: never below zero
        await a.settle("c", "2026-12", 0.1, 0.1)  # nothing reserved there: nothing recorded
        rows = [(r.name, r.period, r.spent_usd, r.reserved_usd, r.requests) for r in await b.usage()]
        assert rows == [("a", "2026-12", 0.3, 0.0, 2), ("b", "2026-11", 0.5, 0.0, 1)]
        assert [r.name for r in await a.usage("b")] == ["b"] and await a.usage("c") == []

    async def test_a_rate_the_store_keeps_holds_across_stores(self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        a, b = key_stores
        if not isinstance(a, KeyRates):
            pytest.skip("this store leaves each key's rate to each process")
        assert await a.take_start("app", 2) == 0 and await b.take_start("app", 2) == 0
        assert 0 < await a.take_start("app", 2) <= 60  # the third start in a minute waits
        assert await b.take_start("other", 2) == 0  # each key has its own window

    async def test_failed_attempts_the_store_counts_hold_across_stores(
            self, key_stores: tuple[KeyStore, KeyStore]) -> None:
        a, b = key_stores
        if not isinstance(a, AuthFailures):
            pytest.skip("this store leaves failed key attempts to each process")
        client, other = "203.0.113.9", "2001:db8::7"
        assert await a.failure_wait(client, 3, 60) == 0
        for store in (a, b, a, b):
            await store.record_failure(client, 3, 60)
        assert 0 < await b.failure_wait(client, 3, 60) <= 60  # the other store refuses it too
        assert await a.failure_wait(client, 5, 60) == 0  # only the latest three were kept
        assert await a.failure_wait(other, 3, 60) == 0  # each address is counted on its own
        for store in (a, b):
            await store.record_failure(other, 2, 0.2)
        assert 0 < await a.failure_wait(other, 2, 0.2) <= 0.2
        await _until_async(lambda: a.failure_wait(other, 2, 0.2), 0)  # old failures leave the window


_JOB_IDS = itertools.count()


def _job(owner: str = "key_a", *, created_at: float = 1000.0, status: str = "queued", key: str | None = None,
        **fields: Any) -> dict[str, Any]:
    """A job record as the gateway writes it (the fields a store indexes, and a few others)."""
    return {"id": f"job_{next(_JOB_IDS):06d}", "object": "image.job", "owner": owner, "idempotency_key": key,
            "status": status, "created_at": created_at, "cost": {"estimated_usd": None, "actual_usd": None},
            "parameters": {"prompt": "a cat", "n": 1}, "result": None, **fields}


class JobStoreConformance:
    """Rules every job store holds to (see :class:`~imagegate.JobStore`); needs ``job_store``: a
    fresh, empty store."""

    async def test_it_follows_the_protocol(self, job_store: JobStore) -> None:
        assert isinstance(job_store, JobStore)

    async def test_a_created_job_reads_back_as_written(self, job_store: JobStore) -> None:
        record = _job(created_at=1764921423.123456, runner={"host": "h", "pid": 7})
        assert await job_store.create(record) == record
        assert await job_store.get(record["id"]) == record
        assert await job_store.get("job_missing") is None

    async def test_an_idempotency_key_finds_the_first_job_of_its_owner_only(self, job_store: JobStore) -> None:
        first = _job(key="k", fingerprint="d1")
        assert await job_store.create(first) == first
        assert await job_store.create(_job(key="k", fingerprint="d2")) == first
        other = _job("key_b", key="k")
        assert await job_store.create(other) == other
        assert [r["id"] for r in await job_store.list("key_a", 10)] == [first["id"]]

    async def test_of_concurrent_creates_with_one_key_exactly_one_wins(self, job_store: JobStore) -> None:
        records = [_job(key="race") for _ in range(20)]
        found = await asyncio.gather(*(job_store.create(record) for record in records))
        winners = {record["id"] for record in found}
        assert len(winners) == 1 and winners <= {record["id"] for record in records}
        assert len(await job_store.list("key_a", 50)) == 1

    async def test_update_merges_fields_and_is_conditional_on_the_status(self, job_store: JobStore) -> None:
        record = await job_store.create(_job())
        assert await job_store.update(record["id"], {"status": "running", "model": "m", "upstream": {"id": "p1"}})
        assert not await job_store.update(record["id"], {"status": "failed"}, only_if=("queued",))
        assert await job_store.update(record["id"], {"status": "canceled", "finished_at": 5.0}, only_if=("queued", "running"))
        assert not await job_store.update(record["id"], {"status": "succeeded"}, only_if=("queued", "running"))
        assert not await job_store.update("job_missing", {"status": "running"})
        stored = await job_store.get(record["id"])
        assert stored == {**record, "status": "canceled", "model": "m", "upstream": {"id": "p1"}, "finished_at": 5.0}

    async def test_of_concurrent_conditional_updates_exactly_one_applies(self, job_store: JobStore) -> None:
        record = await job_store.create(_job(status="running"))
        applied = await asyncio.gather(*(job_store.update(record["id"], {"status": "canceled", "by": n}, only_if=("running",))
                                         for n in range(10)))
        assert applied.count(True) == 1
        stored = await job_store.get(record["id"])
        assert stored is not None and stored["by"] == applied.index(True)

    async def test_list_is_the_owners_jobs_newest_first_with_a_cursor(self, job_store: JobStore) -> None:
        made = [await job_store.create(_job(created_at=1000.0 + n // 2)) for n in range(7)]  # pairs share a time
        await job_store.create(_job("key_b", created_at=5000.0))
        newest_first = sorted(made, key=lambda r: (r["created_at"], r["id"]), reverse=True)
        page = await job_store.list("key_a", 3)
        assert [r["id"] for r in page] == [r["id"] for r in newest_first[:3]]
        page = await job_store.list("key_a", 3, before=page[-1]["id"])
        assert [r["id"] for r in page] == [r["id"] for r in newest_first[3:6]]
        page = await job_store.list("key_a", 3, before=page[-1]["id"])
        assert [r["id"] for r in page] == [newest_first[6]["id"]]
        assert await job_store.list("key_a", 3, before=newest_first[6]["id"]) == []
        assert await job_store.list("nobody", 3) == []

    async def test_unfinished_lists_queued_and_running_jobs_oldest_first(self, job_store: JobStore) -> None:
        later = await job_store.create(_job(created_at=2000.0))
        earlier = await job_store.create(_job(created_at=1000.0, status="running"))
        done = await job_store.create(_job(created_at=500.0, status="succeeded"))
        assert [r["id"] for r in await job_store.unfinished()] == [earlier["id"], later["id"]]
        await job_store.update(later["id"], {"status": "failed"})
        await job_store.update(done["id"], {"status": "running"})
        assert [r["id"] for r in await job_store.unfinished()] == [done["id"], earlier["id"]]

    async def test_purge_deletes_finished_jobs_older_than_the_cut_and_frees_their_keys(self, job_store: JobStore) -> None:
        old_done = await job_store.create(_job(created_at=100.0, status="succeeded", key="k"))
        old_running = await job_store.create(_job(created_at=100.0, status="running"))
        new_done = await job_store.create(_job(created_at=900.0, status="failed"))
        assert await job_store.purge(500.0) == 1
        assert await job_store.get(old_done["id"]) is None
        assert await job_store.get(old_running["id"]) is not None and await job_store.get(new_done["id"]) is not None
        assert [r["id"] for r in await job_store.list("key_a", 10)] == [new_done["id"], old_running["id"]]
        again = _job(key="k")
        assert await job_store.create(again) == again
        assert await job_store.purge(500.0) == 0

    async def test_a_heartbeat_keeps_its_runner_alive_until_it_lapses(self, job_store: JobStore) -> None:
        assert await job_store.heartbeat("r1", 30.0) == {"r1"}
        assert await job_store.heartbeat("r2", 0.2) == {"r1", "r2"}
        await asyncio.sleep(0.3)  # r2's beat lapses (the store's clock decides, so this waits for real)
        assert await job_store.heartbeat("r1", 30.0) == {"r1"}
        assert await job_store.heartbeat("r2", 30.0) == {"r1", "r2"}  # a late beat revives it

    async def test_a_claim_takes_an_unfinished_job_from_the_runner_it_names_once(self, job_store: JobStore) -> None:
        record = await job_store.create(_job(status="running", runner={"host": "h", "pid": 7, "id": "dead"}))
        mine = {"host": "h", "pid": 8, "id": "me"}
        assert await job_store.claim(record["id"], mine, previous="other") is None
        claimed = await job_store.claim(record["id"], mine, previous="dead")
        assert claimed == {**record, "runner": mine}
        assert await job_store.get(record["id"]) == claimed
        assert await job_store.claim(record["id"], {"id": "late"}, previous="dead") is None  # already taken
        assert await job_store.claim("job_missing", mine, previous="dead") is None

    async def test_a_claim_takes_jobs_of_runners_without_an_id_and_never_finished_ones(self, job_store: JobStore) -> None:
        legacy = await job_store.create(_job(runner={"host": "h", "pid": 7}))
        orphan = await job_store.create(_job(runner=None))
        done = await job_store.create(_job(status="succeeded", runner={"host": "h", "pid": 7, "id": "dead"}))
        assert (await job_store.claim(legacy["id"], {"id": "me"}, previous=None) or {}).get("runner") == {"id": "me"}
        assert (await job_store.claim(orphan["id"], {"id": "me"}, previous=None) or {}).get("runner") == {"id": "me"}
        assert await job_store.claim(done["id"], {"id": "me"}, previous="dead") is None

    async def test_of_concurrent_claims_of_one_job_exactly_one_wins(self, job_store: JobStore) -> None:
        record = await job_store.create(_job(status="running", runner={"id": "dead"}))
        claims = await asyncio.gather(*(job_store.claim(record["id"], {"id": f"r{n}"}, previous="dead") for n in range(10)))
        winners = [claimed for claimed in claims if claimed is not None]
        assert len(winners) == 1
        assert (await job_store.get(record["id"]) or {})["runner"] == winners[0]["runner"]

    async def test_list_of_no_owner_is_every_owner_s_jobs_newest_first(self, job_store: JobStore) -> None:
        made = [await job_store.create(_job(owner, created_at=1000.0 + n)) for n, owner in enumerate(["key_a", "key_b"] * 2)]
        newest_first = [record["id"] for record in reversed(made)]
        assert [r["id"] for r in await job_store.list(None, 10)] == newest_first
        assert [r["id"] for r in await job_store.list(None, 2, before=newest_first[1])] == newest_first[2:]

    async def test_runners_are_those_of_unfinished_jobs_by_id(self, job_store: JobStore) -> None:
        running = await job_store.create(_job(status="running", runner={"host": "h", "pid": 7, "id": "r1"}))
        queued = await job_store.create(_job(runner=None))
        await job_store.create(_job(status="succeeded", runner={"host": "h", "pid": 7, "id": "r1"}))
        legacy = await job_store.create(_job())  # no runner field at all
        assert await job_store.runners() == {running["id"]: {"host": "h", "pid": 7, "id": "r1"}, queued["id"]: None,
                                         legacy["id"]: None}
