"""Where jobs are recorded: the :class:`JobStore` protocol and the embedded SQLite default.

A job record is a JSON object (see :mod:`~imagegate.job_runs`) plus the columns the store indexes:
``id``, ``owner``, ``idempotency_key``, ``status``, ``created_at``. SQLite runs in WAL mode with a
busy timeout, so several processes can share one file; every call goes through
:func:`asyncio.to_thread` (one connection per worker thread: no connection crosses threads).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import orjson

from ._errors import InvalidRequest

if TYPE_CHECKING:
    from ._keys import KeyStore
    from ._settings import Settings

__all__ = ["JobStore", "JobStoreRegistry", "SqliteJobStore", "UNFINISHED"]

UNFINISHED = ("queued", "running")


@runtime_checkable
class JobStore(Protocol):
    """A job store a plugin registers with ``register.add_job_store(name, factory)``."""

    async def create(self, record: dict[str, Any]) -> dict[str, Any]:
        """Insert ``record``; when its ``(owner, idempotency_key)`` exists, return that one instead."""

    async def update(self, job_id: str, fields: dict[str, Any], *, only_if: tuple[str, ...] = ()) -> bool:
        """Merge ``fields`` into the record (only when its status is in ``only_if``, if given)."""

    async def get(self, job_id: str) -> dict[str, Any] | None: ...

    async def list(self, owner: str | None, limit: int, before: str | None = None) -> list[dict[str, Any]]:
        """The owner's jobs (every owner's for None), newest first, older than job ``before`` when given."""

    async def unfinished(self) -> list[dict[str, Any]]: ...

    async def runners(self) -> dict[str, dict[str, Any] | None]:
        """The runner of every queued or running job, by job id (what finding a dead process's jobs
        needs, without reading whole records)."""

    async def heartbeat(self, runner: str, ttl_s: float) -> set[str]:
        """Note that process ``runner`` lives for ``ttl_s`` more seconds; return every runner alive
        now (its own included), by one clock for all replicas."""

    async def claim(self, job_id: str, runner: dict[str, Any], *, previous: str | None) -> dict[str, Any] | None:
        """Make ``runner`` the unfinished job's runner if its runner's ``id`` is still ``previous``
        (None: a runner without one); the claimed record, or None when the job ended or another
        process claimed it first."""

    async def purge(self, older_than: float) -> int:
        """Delete finished jobs created before ``older_than`` (epoch seconds); return how many."""

    async def aclose(self) -> None: ...


class JobStoreRegistry:
    """Job-store backends by name (``JOBS__BACKEND`` picks one), and the key stores kept beside them."""

    def __init__(self) -> None:
        self.factories: dict[str, Callable[[Settings], JobStore]] = {}
        self.key_stores: dict[str, Callable[[Settings, JobStore], KeyStore]] = {}

    def add_job_store(self, name: str, factory: Callable[[Settings], JobStore]) -> None:
        self.factories[name] = factory

    def add_key_store(self, name: str, factory: Callable[[Settings, JobStore], KeyStore]) -> None:
        """Keep virtual keys and their spending in backend ``name`` too: with ``JOBS__BACKEND=name``
        the gateway's key store is ``factory(settings, job_store)`` (it may share the job store's
        connection: the gateway closes only the job store). Backends without one keep keys in the
        jobs' SQLite file."""
        self.key_stores[name] = factory

    def create(self, settings: Settings, backend: str) -> JobStore:
        if backend not in self.factories:
            names = ", ".join(sorted(self.factories))
            msg = f"JOBS__BACKEND={backend!r} is not installed; use one of: {names}"
            raise InvalidRequest(msg, param="JOBS__BACKEND")
        return self.factories[backend](settings)

    def create_key_store(self, settings: Settings, backend: str, job_store: JobStore) -> KeyStore:
        """The key store kept beside ``backend``'s jobs (the ``sqlite`` one when it has none)."""
        return self.key_stores.get(backend, self.key_stores["sqlite"])(settings, job_store)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, idempotency_key TEXT, status TEXT NOT NULL,
  created_at REAL NOT NULL, record BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_key ON jobs(owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, created_at);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE TABLE IF NOT EXISTS runners (id TEXT PRIMARY KEY, alive_until REAL NOT NULL);
"""
_FORGET_S = 86400.0
"""Runners silent for this long are deleted from the table."""


class SqliteJobStore:
    """Jobs in one SQLite file (WAL, safe for several processes).

    Each worker thread keeps its connection (opening one per call cost more CPU than the query), and
    commits are not fsynced one by one (``synchronous=NORMAL``: in WAL mode the file stays consistent
    and a killed process loses nothing; a power cut may lose the last moments' job updates).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._idle = threading.Condition()
        self._working = 0
        """Calls in worker threads now (closing waits for them: a connection must not close under one)."""

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._lock:  # one thread makes the schema
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout=30000")
            if not self._ready:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                self._ready = True
            connection.execute("PRAGMA synchronous=NORMAL")
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._idle:
            self._working += 1
        try:
            return work(self._connect())
        finally:
            with self._idle:
                self._working -= 1
                self._idle.notify_all()

    async def create(self, record: dict[str, Any]) -> dict[str, Any]:
        def work(db: sqlite3.Connection) -> dict[str, Any]:
            try:
                db.execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                           (record["id"], record["owner"], record.get("idempotency_key"), record["status"],
                            record["created_at"], orjson.dumps(record)))
            except sqlite3.IntegrityError:
                row = db.execute("SELECT record FROM jobs WHERE owner = ? AND idempotency_key = ?",
                                 (record["owner"], record.get("idempotency_key"))).fetchone()
                if row is None:
                    raise
                return orjson.loads(row[0])  # type: ignore[no-any-return]
            return record

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def update(self, job_id: str, fields: dict[str, Any], *, only_if: tuple[str, ...] = ()) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None:
                    return False
                record = orjson.loads(row[0])
                if only_if and record["status"] not in only_if:
                    return False
                record.update(fields)
                db.execute("UPDATE jobs SET status = ?, record = ? WHERE id = ?",
                           (record["status"], orjson.dumps(record), job_id))
                return True
            finally:
                db.execute("COMMIT")

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def get(self, job_id: str) -> dict[str, Any] | None:
        def work(db: sqlite3.Connection) -> dict[str, Any] | None:
            row = db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return None if row is None else orjson.loads(row[0])

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def list(self, owner: str | None, limit: int, before: str | None = None) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            mine, args = ("j.owner = ?", [owner]) if owner is not None else ("1", [])
            if before is None:
                rows = db.execute(f"SELECT record FROM jobs j WHERE {mine} ORDER BY created_at DESC, id DESC "
                                  "LIMIT ?", (*args, limit)).fetchall()
            else:
                rows = db.execute(
                    f"SELECT j.record FROM jobs j, jobs b WHERE b.id = ? AND {mine} AND "
                    "(j.created_at < b.created_at OR (j.created_at = b.created_at AND j.id < b.id)) "
                    "ORDER BY j.created_at DESC, j.id DESC LIMIT ?", (before, *args, limit)).fetchall()
            return [orjson.loads(row[0]) for row in rows]

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def unfinished(self) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = db.execute("SELECT record FROM jobs WHERE status IN (?, ?) ORDER BY created_at",
                              UNFINISHED).fetchall()
            return [orjson.loads(row[0]) for row in rows]

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def runners(self) -> dict[str, dict[str, Any] | None]:
        def work(db: sqlite3.Connection) -> dict[str, dict[str, Any] | None]:
            rows = db.execute("SELECT id, json_extract(CAST(record AS TEXT), '$.runner') FROM jobs "
                              "WHERE status IN (?, ?)", UNFINISHED).fetchall()
            return {job_id: None if runner is None else orjson.loads(runner) for job_id, runner in rows}

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def heartbeat(self, runner: str, ttl_s: float) -> set[str]:
        def work(db: sqlite3.Connection) -> set[str]:
            now = time.time()  # one machine, one clock
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT OR REPLACE INTO runners VALUES (?, ?)", (runner, now + ttl_s))
                db.execute("DELETE FROM runners WHERE alive_until < ?", (now - _FORGET_S,))
                rows = db.execute("SELECT id FROM runners WHERE alive_until >= ?", (now,)).fetchall()
            finally:
                db.execute("COMMIT")
            return {row[0] for row in rows}

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def claim(self, job_id: str, runner: dict[str, Any], *, previous: str | None) -> dict[str, Any] | None:
        def work(db: sqlite3.Connection) -> dict[str, Any] | None:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
                record = None if row is None else orjson.loads(row[0])
                if (record is None or record["status"] not in UNFINISHED
                        or (record.get("runner") or {}).get("id") != previous):
                    return None
                record["runner"] = runner
                db.execute("UPDATE jobs SET record = ? WHERE id = ?", (orjson.dumps(record), job_id))
                return record  # type: ignore[no-any-return]
            finally:
                db.execute("COMMIT")

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def purge(self, older_than: float) -> int:
        def work(db: sqlite3.Connection) -> int:
            cursor = db.execute("DELETE FROM jobs WHERE created_at < ? AND status NOT IN (?, ?)",
                                (older_than, *UNFINISHED))
            return cursor.rowcount

        return await asyncio.to_thread(self._run, work)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Close every connection once no call uses one (an abandoned call's thread runs on)."""

        def close() -> None:
            with self._idle:
                self._idle.wait_for(lambda: not self._working, timeout=60)
                with self._lock:
                    for connection in self._connections:
                        connection.close()
                    self._connections.clear()
                    self._local = threading.local()

        await asyncio.to_thread(close)
