"""Virtual API keys: made by ``imagegate keys create``, each with its own models, rate and budget.

Only a key's SHA-256 digest is stored; the key itself is printed once. Keys and their spending live
in the job store's backend (the embedded SQLite file by default), so every process on the machine
sees the same budget. Spending is kept per key and period (a UTC day ``2026-12-05`` or month
``2026-12``): ``reserved`` holds the estimates of requests in flight, ``spent`` what finished
requests cost; a reservation is refused when ``spent + reserved + estimate`` would pass the budget.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from ._errors import InvalidRequest, NotFound

__all__ = ["KEY_PREFIX", "AuthFailures", "KeyRates", "KeyStore", "KeyUsage", "SqliteKeyStore", "VirtualKey",
           "key_digest", "new_key", "period_of"]

KEY_PREFIX = "igk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

Period = Literal["day", "month"]


def new_key() -> str:
    """A new secret key (shown once to whoever creates it)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """What is stored for a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def period_of(period: Period, now: float | None = None) -> str:
    """The budget period holding ``now``: ``2026-12-05`` (day) or ``2026-12`` (month), UTC."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return moment.strftime("%Y-%m-%d" if period == "day" else "%Y-%m")


class VirtualKey(BaseModel):
    """A key's settings (never the key itself)."""

    name: str
    digest: str
    hint: str = Field(description="The key's first characters, to tell keys apart in lists.")
    rpm: int | None = Field(None, gt=0)
    budget_usd: float | None = Field(None, gt=0)
    budget_period: Period = "month"
    models: list[str] = Field(default_factory=list, description="Allowed models; empty: all.")
    admin: bool = False
    created_at: float = Field(default_factory=time.time)
    revoked_at: float | None = None

    @classmethod
    def new(cls, name: str, **limits: Any) -> tuple[str, VirtualKey]:
        """A new secret key and the settings kept of it (its digest and first characters only)."""
        secret = new_key()
        return secret, cls(name=name, digest=key_digest(secret), hint=secret[:8], **limits)

    @classmethod
    def check_name(cls, name: str) -> str:
        if not _NAME.match(name):
            msg = f"key name {name[:70]!r} must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            raise InvalidRequest(msg, param="name")
        return name

    @property
    def owner(self) -> str:
        """The owner of the images and jobs this key makes (as for any bearer key)."""
        return "key_" + self.digest[:24]

    def public(self) -> dict[str, Any]:
        """What ``keys list`` shows."""
        return self.model_dump(exclude={"digest"})


class KeyUsage(BaseModel):
    """One key's spending in one period."""

    name: str
    period: str
    spent_usd: float
    reserved_usd: float
    requests: int


@runtime_checkable
class KeyStore(Protocol):
    """Where virtual keys and their spending are kept: the jobs' SQLite file, or the key store a
    plugin registers for its job-store backend (``register.add_key_store``)."""

    async def add(self, key: VirtualKey) -> None:
        """Store a new key; ``invalid_request`` naming ``name`` when the name is taken."""

    async def find(self, digest: str) -> VirtualKey | None:
        """The key with this digest (revoked ones too), or None."""

    async def all(self) -> list[VirtualKey]: ...

    async def revoke(self, name: str) -> VirtualKey:
        """Mark the key revoked (``not_found`` for an unknown name)."""

    async def reserve(self, name: str, period: str, usd: float, budget_usd: float | None) -> float | None:
        """Atomically add ``usd`` to the period's reservations and count a request, unless that
        would pass ``budget_usd``: then change nothing and return what is left."""

    async def settle(self, name: str, period: str, reserved_usd: float, spent_usd: float) -> None:
        """Release a reservation and record what the request cost."""

    async def usage(self, name: str | None = None) -> list[KeyUsage]:
        """Spending per key and period, newest period first."""


@runtime_checkable
class KeyRates(Protocol):
    """Per-key request rates a key store may also keep (e.g. shared by every replica); when its
    store is not one, each gateway counts every key's starts in its own process."""

    async def take_start(self, name: str, rpm: int) -> float:
        """Count a start of key ``name`` and return 0, or (counting nothing) return the seconds
        until its ``rpm`` starts a minute allow one."""


@runtime_checkable
class AuthFailures(Protocol):
    """Failed API-key attempts per client address a key store may also count (e.g. shared by every
    replica); when its store is not one, each front-end counts them in its own process."""

    async def failure_wait(self, client: str, max_failures: int, window_s: float) -> float:
        """0, or (when ``max_failures`` of ``client``'s failures fall within the last ``window_s``)
        the seconds until the oldest of them leaves the window."""

    async def record_failure(self, client: str, max_failures: int, window_s: float) -> None:
        """Count a failed attempt of ``client``: only its latest ``max_failures`` are kept, none
        longer than ``window_s``."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS virtual_keys (name TEXT PRIMARY KEY, digest TEXT UNIQUE NOT NULL, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS key_spend (
  name TEXT NOT NULL, period TEXT NOT NULL, spent REAL NOT NULL DEFAULT 0, reserved REAL NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (name, period));
"""


class SqliteKeyStore:
    """Keys and spending in the jobs' SQLite file (WAL; reservations in ``BEGIN IMMEDIATE``
    transactions, so processes sharing the file never overspend together)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            if not self._ready:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                self._ready = True
            return work(db)
        finally:
            db.close()

    async def _call(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        return await asyncio.to_thread(self._run, work)

    async def add(self, key: VirtualKey) -> None:
        def work(db: sqlite3.Connection) -> None:
            try:
                db.execute("INSERT INTO virtual_keys VALUES (?, ?, ?)", (key.name, key.digest, key.model_dump_json()))
            except sqlite3.IntegrityError:
                raise InvalidRequest(f"a key named {key.name!r} exists; choose another name", param="name") from None

        await self._call(work)

    async def find(self, digest: str) -> VirtualKey | None:
        row = await self._call(lambda db: db.execute(
            "SELECT record FROM virtual_keys WHERE digest = ?", (digest,)).fetchone())
        return None if row is None else VirtualKey.model_validate_json(row[0])

    async def all(self) -> list[VirtualKey]:
        rows = await self._call(lambda db: db.execute("SELECT record FROM virtual_keys ORDER BY name").fetchall())
        return [VirtualKey.model_validate_json(row[0]) for row in rows]

    async def revoke(self, name: str) -> VirtualKey:
        def work(db: sqlite3.Connection) -> VirtualKey:
            row = db.execute("SELECT record FROM virtual_keys WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise NotFound(f"no key named {name[:70]!r}", param="name")
            key = VirtualKey.model_validate_json(row[0])
            if key.revoked_at is None:
                key.revoked_at = time.time()
                db.execute("UPDATE virtual_keys SET record = ? WHERE name = ?", (key.model_dump_json(), name))
            return key

        return await self._call(work)  # type: ignore[no-any-return]

    async def reserve(self, name: str, period: str, usd: float, budget_usd: float | None) -> float | None:
        def work(db: sqlite3.Connection) -> float | None:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT spent, reserved FROM key_spend WHERE name = ? AND period = ?",
                                 (name, period)).fetchone()
                spent, reserved = row or (0.0, 0.0)
                if budget_usd is not None and spent + reserved + usd > budget_usd + 1e-9:
                    return max(0.0, budget_usd - spent - reserved)
                db.execute("INSERT INTO key_spend (name, period, reserved, requests) VALUES (?, ?, ?, 1) "
                           "ON CONFLICT (name, period) DO UPDATE SET reserved = reserved + excluded.reserved, "
                           "requests = requests + 1", (name, period, usd))
                return None
            finally:
                db.execute("COMMIT")

        return await self._call(work)  # type: ignore[no-any-return]

    async def settle(self, name: str, period: str, reserved_usd: float, spent_usd: float) -> None:
        await self._call(lambda db: db.execute(
            "UPDATE key_spend SET reserved = MAX(0, reserved - ?), spent = spent + ? WHERE name = ? AND period = ?",
            (reserved_usd, spent_usd, name, period)))

    async def usage(self, name: str | None = None) -> list[KeyUsage]:
        query = "SELECT name, period, spent, reserved, requests FROM key_spend"
        args: tuple[str, ...] = ()
        if name is not None:
            query, args = query + " WHERE name = ?", (name,)
        rows = await self._call(lambda db: db.execute(query + " ORDER BY period DESC, name", args).fetchall())
        return [KeyUsage(name=r[0], period=r[1], spent_usd=round(r[2], 6), reserved_usd=round(r[3], 6), requests=r[4])
                for r in rows]

