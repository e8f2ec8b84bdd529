"""Retention on local storage: age and size limits, grace, protected ids, dry runs, the periodic
pass while a gateway is open, and ``imagegate gc`` as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from imagegate import hookimpl
from imagegate._errors import NotFound
from imagegate._events import Event, ImageDeleted
from imagegate._gateway import Gateway
from imagegate._ids import new_image_id
from imagegate._retention import RetentionPolicy, collect_garbage, plan_deletions
from imagegate._storage import StoredEntry
from imagegate.testing import build_gateway, temp_settings

from imagegate.testing import image_bytes

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
MB = 1024**2


def entry(image_id: str, *, days: float = 0, hours: float = 0, size: int = MB) -> StoredEntry:
    return StoredEntry(image_id, size, NOW - timedelta(days=days, hours=hours))


# planning -------------------------------------------------------------------------------------------


def test_images_past_the_age_go_oldest_first_and_younger_ones_stay() -> None:
    entries = [entry("b", days=40), entry("new", days=2), entry("a", days=50)]
    plan = plan_deletions(entries, RetentionPolicy(max_age=timedelta(days=30)), set(), NOW)
    assert [(e.image_id, reason) for e, reason in plan] == [("a", "age"), ("b", "age")]


def test_the_size_cap_deletes_the_oldest_until_the_store_is_under_it() -> None:
    entries = [entry("c", days=3), entry("a", days=5), entry("d", days=2), entry("b", days=4)]
    plan = plan_deletions(entries, RetentionPolicy(max_bytes=2 * MB), set(), NOW)
    assert [(e.image_id, reason) for e, reason in plan] == [("a", "size"), ("b", "size")]
    assert plan_deletions(entries, RetentionPolicy(max_bytes=4 * MB), set(), NOW) == []


def test_grace_and_protection_win_over_both_limits() -> None:
    entries = [entry("protected", days=90), entry("fresh", hours=0.5, size=10 * MB), entry("old", days=90)]
    policy = RetentionPolicy(max_age=timedelta(days=1), max_bytes=1, grace=timedelta(hours=1))
    plan = plan_deletions(entries, policy, {"protected"}, NOW)
    assert [(e.image_id, reason) for e, reason in plan] == [("old", "age")]


def test_no_limit_set_means_keep_forever() -> None:
    assert not RetentionPolicy().active
    assert plan_deletions([entry("a", days=9999)], RetentionPolicy(), set(), NOW) == []


# a gateway on local storage ------------------------------------------------------------------------


class Protector:
    """A test plugin naming the ids retention must keep (as a jobs plugin would)."""

    def __init__(self, ids: set[str], *, awaitable: bool = False, broken: bool = False) -> None:
        self.ids, self.awaitable, self.broken = ids, awaitable, broken
        self.calls = 0

    @hookimpl
    def protected_image_ids(self, gateway: Gateway) -> Any:
        self.calls += 1
        if self.broken:
            msg = "the job store is unreachable"
            raise RuntimeError(msg)
        if self.awaitable:
            async def later() -> set[str]:
                return self.ids
            return later()
        return self.ids


class Events:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    @hookimpl
    def track_event(self, gateway: Gateway, event: Event) -> None:
        self.seen.append(event)


GatewayMaker = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def make_gateway(tmp_path: Path) -> AsyncIterator[GatewayMaker]:
    opened: list[Gateway] = []

    async def make(*plugins: tuple[str, object], **storage: Any) -> Gateway:
        gateway = build_gateway(temp_settings(tmp_path, storage=storage), *plugins)
        opened.append(gateway)
        return await gateway.open()

    try:
        yield make
    finally:
        for gateway in opened:
            await gateway.aclose()


async def store(gateway: Gateway, *, days_ago: float, size: int = 0) -> str:
    """Save an image straight into the backend and date it ``days_ago`` (its metadata's mtime)."""
    image_id = new_image_id()
    data = image_bytes(8, 8) + b"\0" * size
    await gateway.storage.save(image_id, data, {"id": image_id, "extension": "png", "mime_type": "image/png",
                                                "bytes": len(data), "sha256": None})
    stamp = (datetime.now(UTC) - timedelta(days=days_ago)).timestamp()
    os.utime(gateway.storage.files.meta_path(image_id), (stamp, stamp))  # type: ignore[attr-defined]
    return image_id


async def stored_ids(gateway: Gateway) -> set[str]:
    return {e.image_id for e in await gateway.storage.inventory()}


async def test_a_pass_deletes_old_images_logs_and_emits_them(make_gateway: GatewayMaker,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    events = Events()
    gateway = await make_gateway(("events", events), retention_days=7)
    old, new = await store(gateway, days_ago=10), await store(gateway, days_ago=1)
    with caplog.at_level("INFO", logger="imagegate.retention"):
        report = await collect_garbage(gateway)
    assert [e.image_id for e, _ in report.deleted] == [old] and report.bytes > 0
    assert await stored_ids(gateway) == {new}
    with pytest.raises(NotFound):
        await gateway.read(old)
    deleted = [e for e in events.seen if isinstance(e, ImageDeleted)]
    assert [(e.image_id, e.reason, e.bytes) for e in deleted] == [(old, "age", report.bytes)]
    assert old in caplog.text and "age" in caplog.text
    assert "base64" not in caplog.text and "PNG" not in caplog.text


async def test_dry_run_deletes_nothing(make_gateway: GatewayMaker) -> None:
    events = Events()
    gateway = await make_gateway(("events", events), retention_days=7)
    old = await store(gateway, days_ago=10)
    report = await collect_garbage(gateway, dry_run=True)
    assert report.dry_run and [e.image_id for e, _ in report.deleted] == [old]
    assert await stored_ids(gateway) == {old}
    assert not [e for e in events.seen if isinstance(e, ImageDeleted)]


@pytest.mark.parametrize("awaitable", [False, True])
async def test_protected_ids_are_kept(make_gateway: GatewayMaker, awaitable: bool) -> None:
    protector = Protector(set(), awaitable=awaitable)
    gateway = await make_gateway(("jobs", protector), retention_days=7)
    kept, gone = await store(gateway, days_ago=30), await store(gateway, days_ago=30)
    protector.ids = {kept}
    report = await collect_garbage(gateway)
    assert [e.image_id for e, _ in report.deleted] == [gone] and report.protected == 1
    assert await stored_ids(gateway) == {kept}


async def test_the_stored_inputs_of_an_unfinished_job_are_kept(make_gateway: GatewayMaker) -> None:
    from imagegate._models import ImageInput, ImageRequest
    from imagegate.testing import ScriptedPlugin, ScriptedProvider, scripted_model

    provider = ScriptedProvider("held")
    gateway = await make_gateway(("held", ScriptedPlugin(provider, scripted_model("held-1", provider="held"))),
                                 retention_days=7)
    used, unused = await store(gateway, days_ago=30), await store(gateway, days_ago=30)
    provider.hold()
    submitted = await gateway.jobs.submit("edit", ImageRequest(
        prompt="edit it", model="held-1", images=[ImageInput(kind="id", value=used)]), owner="local")
    try:
        report = await collect_garbage(gateway)
        assert [e.image_id for e, _ in report.deleted] == [unused] and report.protected == 1
        assert await stored_ids(gateway) == {used}
    finally:
        provider.release()
        await submitted.task
    assert (await gateway.jobs.get(submitted.record["id"], "local"))["status"] == "succeeded"
    assert used not in await gateway.jobs.protected_ids()  # finished: no longer protected


async def test_a_failing_protection_hook_stops_the_pass(make_gateway: GatewayMaker) -> None:
    gateway = await make_gateway(("jobs", Protector(set(), broken=True)), retention_days=7)
    old = await store(gateway, days_ago=30)
    with pytest.raises(RuntimeError):
        await collect_garbage(gateway)
    assert await stored_ids(gateway) == {old}


async def test_grace_keeps_young_images_even_over_the_cap(make_gateway: GatewayMaker) -> None:
    gateway = await make_gateway(max_size_gb=1 / 1024**3, retention_grace_h=2)  # a 1-byte cap
    young = await store(gateway, days_ago=1 / 24)  # one hour
    older = await store(gateway, days_ago=1)
    report = await collect_garbage(gateway)
    assert [(e.image_id, reason) for e, reason in report.deleted] == [(older, "size")]
    assert await stored_ids(gateway) == {young}


async def test_the_size_cap_deletes_oldest_first(make_gateway: GatewayMaker) -> None:
    gateway = await make_gateway(max_size_gb=2.5 * MB / 1024**3)
    ids = [await store(gateway, days_ago=days, size=MB) for days in (5, 4, 3, 2)]  # oldest first
    report = await collect_garbage(gateway)
    assert [e.image_id for e, _ in report.deleted] == ids[:2]
    assert await stored_ids(gateway) == set(ids[2:])
    assert sum(e.bytes for e in await gateway.storage.inventory()) <= 2.5 * MB


async def test_retention_off_deletes_nothing(make_gateway: GatewayMaker) -> None:
    protector = Protector(set())
    gateway = await make_gateway(("jobs", protector))
    old = await store(gateway, days_ago=3650)
    report = await collect_garbage(gateway)
    assert not report.active and report.deleted == [] and protector.calls == 0
    assert await stored_ids(gateway) == {old}


async def test_the_periodic_pass_runs_while_open_and_stops_with_the_gateway(make_gateway: GatewayMaker) -> None:
    protector = Protector(set())
    gateway = await make_gateway(("jobs", protector), retention_days=7, gc_interval_s=0.01)
    old = await store(gateway, days_ago=10)
    deadline = asyncio.get_running_loop().time() + 10
    while await stored_ids(gateway) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    assert old not in await stored_ids(gateway)
    task = vars(gateway)["_imagegate_retention_task"]
    await gateway.aclose()
    assert task.done() and "_imagegate_retention_task" not in vars(gateway)
    calls = protector.calls
    await asyncio.sleep(0.05)
    assert protector.calls == calls  # no pass after close


async def test_no_periodic_task_without_a_limit_or_an_interval(make_gateway: GatewayMaker) -> None:
    assert "_imagegate_retention_task" not in vars(await make_gateway())
    assert "_imagegate_retention_task" not in vars(await make_gateway(retention_days=1, gc_interval_s=0))


# imagegate gc ----------------------------------------------------------------------------------------


def gc(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PROVIDERS__", "STORAGE__", "GATEWAY__"))}
    clean.update({"STORAGE__LOCAL__ROOT": str(tmp_path / "images"), "STORAGE__SPOOL_DIR": str(tmp_path / "spool"),
                  "IMAGEGATE_DISABLE_PLUGINS": "observability", **env})
    return subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", "gc", *args],
                          capture_output=True, text=True, env=clean, timeout=120)


async def test_gc_prints_what_it_would_delete_then_deletes_it(make_gateway: GatewayMaker, tmp_path: Path) -> None:
    gateway = await make_gateway()
    old, new = await store(gateway, days_ago=40), await store(gateway, days_ago=1)
    sizes = {e.image_id: e.bytes for e in await gateway.storage.inventory()}
    size = sizes[old]

    dry = gc(tmp_path, "--dry-run", "--json", STORAGE__RETENTION_DAYS="30")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["dry_run"], report["count"], report["bytes"], report["ids"]) == (True, 1, size, [old])
    assert report["reasons"] == {old: "age"} and report["stored_images"] == 2
    assert await stored_ids(gateway) == {old, new}

    text = gc(tmp_path, STORAGE__RETENTION_DAYS="30")
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0] == (
        f"deleted 1 image(s), {size} bytes (of 2 stored, {size + sizes[new]} bytes; 0 protected)")
    assert old in text.stdout and new not in text.stdout
    assert await stored_ids(gateway) == {new}

    off = gc(tmp_path, "--json")
    assert off.returncode == 0 and json.loads(off.stdout)["retention"] is False
    assert "retention is off" in gc(tmp_path).stdout


async def test_a_backend_without_inventory_is_refused_clearly(make_gateway: GatewayMaker) -> None:
    from imagegate._errors import StorageError

    gateway = await make_gateway(retention_days=7)
    old = await store(gateway, days_ago=30)
    gateway.storage.inventory = None  # type: ignore[method-assign]  # an older third-party backend
    with pytest.raises(StorageError) as caught:
        await collect_garbage(gateway)
    assert "inventory" in caught.value.message and not caught.value.retryable
    del gateway.storage.inventory
    assert await stored_ids(gateway) == {old}
