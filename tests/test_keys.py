"""Virtual keys: the store (digests only, atomic reservations), and the pipeline holding a key to its
models, rate and budget before any upstream call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imagegate import hookimpl
from imagegate._callers import Caller, LocalKeyRates
from imagegate._errors import PermissionDenied, QuotaExceeded, RateLimited, UpstreamError
from imagegate._events import KeySpent
from imagegate._job_store import JobStore, SqliteJobStore
from imagegate._keys import KeyRates, KeyStore, SqliteKeyStore, VirtualKey, period_of
from imagegate.testing import FakeSleep, KeyStoreConformance, build_gateway, run_cli, temp_settings

from .pipeline_support import REQUEST, Plugin, Scripted, make


def _key(name: str = "app", **limits: Any) -> tuple[str, VirtualKey]:
    return VirtualKey.new(name, **limits)


# the store -------------------------------------------------------------------------------------


@pytest.fixture
def key_stores(tmp_path: Path) -> tuple[SqliteKeyStore, SqliteKeyStore]:
    path = tmp_path / "jobs.sqlite3"
    return SqliteKeyStore(path), SqliteKeyStore(path)  # two processes' views of one file


class TestSqliteKeyStore(KeyStoreConformance):
    pass


async def test_only_the_digest_is_stored(tmp_path: Path) -> None:
    store = SqliteKeyStore(tmp_path / "jobs.sqlite3")
    secret, key = _key()
    await store.add(key)
    assert secret.encode() not in (tmp_path / "jobs.sqlite3").read_bytes()
    assert key.digest.encode() in (tmp_path / "jobs.sqlite3").read_bytes()


def test_periods_are_utc_days_or_months() -> None:
    moment = 1796428800.0  # 2026-12-05T00:00:00Z
    assert (period_of("day", moment), period_of("month", moment)) == ("2026-12-05", "2026-12")
    assert period_of("day", moment - 1) == "2026-12-04"


# the pipeline ----------------------------------------------------------------------------------


async def _gateway(tmp_path: Path, provider: Scripted) -> tuple[Any, Any]:
    return await make(tmp_path, provider, FakeSleep())


async def _caller(gateway: Any, **limits: Any) -> Caller:
    secret, key = _key(**limits)
    await gateway.keys.store.add(key)
    caller = await gateway.keys.identify(secret)
    assert caller is not None and caller.key == key and caller.owner == key.owner
    return caller


async def test_a_budget_is_reserved_before_the_call_and_refused_when_it_would_be_passed(tmp_path: Path) -> None:
    provider = Scripted()
    gateway, plugin = await _gateway(tmp_path, provider)
    try:
        caller = await _caller(gateway, budget_usd=0.25, budget_period="day")
        for _ in range(2):
            result = await gateway.run("generate", REQUEST, caller=caller)
            assert result.cost.estimated_usd == pytest.approx(0.1)
        with pytest.raises(QuotaExceeded) as refused:
            await gateway.run("generate", REQUEST, caller=caller)
        assert "$0.0500 left of its $0.25 day budget" in refused.value.message
        assert refused.value.retryable is False
        assert len(provider.calls) == 2  # refused before any money was spent
        [row] = await gateway.keys.store.usage("app")
        assert (row.spent_usd, row.reserved_usd, row.requests) == (pytest.approx(0.2), 0.0, 2)
        spent = [e for e in plugin.events if isinstance(e, KeySpent)]
        assert [(e.key, e.usd, e.period) for e in spent] == [("app", pytest.approx(0.1), period_of("day"))] * 2
    finally:
        await gateway.aclose()


async def test_a_failed_call_gives_its_reservation_back(tmp_path: Path) -> None:
    provider = Scripted([UpstreamError("502")] * 4)
    gateway, _ = await _gateway(tmp_path, provider)
    try:
        caller = await _caller(gateway, budget_usd=0.1)
        with pytest.raises(UpstreamError):
            await gateway.run("generate", REQUEST, caller=caller)
        [row] = await gateway.keys.store.usage("app")
        assert (row.spent_usd, row.reserved_usd) == (0.0, 0.0)
        await gateway.run("generate", REQUEST, caller=caller)  # the whole budget is there again
    finally:
        await gateway.aclose()


async def test_a_key_uses_only_its_models_and_its_rate(tmp_path: Path) -> None:
    provider = Scripted()
    gateway, _ = await _gateway(tmp_path, provider)
    try:
        other = await _caller(gateway, models=["gpt-image-2"])
        with pytest.raises(PermissionDenied) as denied:
            await gateway.run("generate", REQUEST, caller=other)
        assert denied.value.param == "model" and "gpt-image-2" in denied.value.message
        secret, key = _key("slow", rpm=1, models=["fake-model"])
        await gateway.keys.store.add(key)
        limited = await gateway.keys.identify(secret)
        await gateway.run("generate", REQUEST, caller=limited)
        with pytest.raises(RateLimited) as slowed:
            await gateway.run("generate", REQUEST, caller=limited)
        assert slowed.value.retry_after is not None and 0 < slowed.value.retry_after <= 60
        assert len(provider.calls) == 1
    finally:
        await gateway.aclose()


async def test_a_revoked_or_unknown_key_is_no_caller(tmp_path: Path) -> None:
    gateway, _ = await _gateway(tmp_path, Scripted())
    try:
        secret, key = _key()
        await gateway.keys.store.add(key)
        gateway.keys._clock = lambda: 0.0  # noqa: SLF001  (the cache's clock: no waiting for it to expire)
        assert await gateway.keys.identify(secret) is not None
        await gateway.keys.store.revoke("app")
        gateway.keys._clock = lambda: 10.0  # noqa: SLF001
        assert await gateway.keys.identify(secret) is None
        assert await gateway.keys.identify("igk_unknown") is None
    finally:
        await gateway.aclose()


# a plugin's key store ----------------------------------------------------------------------------


class RatedKeys(SqliteKeyStore):
    """A plugin's key store, beside its job store, that counts key rates itself (refusing all but
    the first start)."""

    def __init__(self, path: Path, jobs: JobStore) -> None:
        super().__init__(path)
        self.jobs = jobs
        self.starts: list[tuple[str, int]] = []

    async def take_start(self, name: str, rpm: int) -> float:
        self.starts.append((name, rpm))
        return 0.0 if len(self.starts) == 1 else 12.5


class KeysBeside(Plugin):
    def __init__(self, provider: Scripted, root: Path) -> None:
        super().__init__(provider)
        self.root = root

    @hookimpl
    def register_job_stores(self, register: Any) -> None:
        register.add_job_store("beside", lambda settings: SqliteJobStore(self.root / "jobs-beside.sqlite3"))
        register.add_key_store("beside", lambda settings, jobs: RatedKeys(self.root / "keys-beside.sqlite3", jobs))


async def test_a_job_store_plugin_keeps_the_keys_and_their_rates_when_its_backend_is_chosen(tmp_path: Path) -> None:
    provider = Scripted()
    plugin = KeysBeside(provider, tmp_path)
    gateway = build_gateway(temp_settings(tmp_path, providers={"fake": {}}, jobs={"backend": "beside"}),
                            ("fake", plugin))
    await gateway.open()
    try:
        store = gateway.keys.store
        assert isinstance(store, RatedKeys) and store.jobs is gateway.jobs.store
        assert isinstance(store, KeyStore) and gateway.keys.rates is store
        caller = await _caller(gateway, rpm=5)
        await gateway.run("generate", REQUEST, caller=caller)
        with pytest.raises(RateLimited) as slowed:
            await gateway.run("generate", REQUEST, caller=caller)
        assert slowed.value.retry_after == 12.5 and store.starts == [("app", 5)] * 2
        assert (tmp_path / "keys-beside.sqlite3").exists() and len(provider.calls) == 1
    finally:
        await gateway.aclose()
    other = build_gateway(temp_settings(tmp_path / "other", providers={"fake": {}}), ("fake", plugin))
    assert type(other.keys.store) is SqliteKeyStore  # another backend: the keys stay beside SQLite's jobs
    assert isinstance(other.keys.rates, LocalKeyRates) and not isinstance(other.keys.store, KeyRates)
    assert other.keys.failures is None  # failed key attempts are counted by each front-end


# the CLI ---------------------------------------------------------------------------------------


async def test_cli_creates_lists_revokes_and_reports_usage(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}  # the data directory: images, spool, jobs and keys
    made = await run_cli(env, "keys", "create", "--name", "team-a", "--budget-usd", "5", "--budget-period", "day",
                         "--models", "placeholder", "--json")
    assert made.returncode == 0, made.stderr
    created = made.json()
    assert created["name"] == "team-a" and created["key"].startswith("igk_")
    listed = await run_cli(env, "keys", "list", "--json", secrets=[created["key"]])
    [entry] = listed.json()
    assert (entry["budget_usd"], entry["budget_period"], entry["models"], entry["revoked_at"]) == (
        5.0, "day", ["placeholder"], None)
    again = await run_cli(env, "keys", "create", "--name", "team-a", "--json")
    assert again.returncode == 1 and again.json()["error"]["param"] == "name"
    assert (await run_cli(env, "keys", "revoke", "team-a")).returncode == 0
    assert (await run_cli(env, "keys", "list", "--json")).json()[0]["revoked_at"] is not None
    assert (await run_cli(env, "keys", "usage", "--json")).json() == []
    missing = await run_cli(env, "keys", "revoke", "nobody", "--json")
    assert missing.returncode == 1 and missing.json()["error"]["code"] == "not_found"
