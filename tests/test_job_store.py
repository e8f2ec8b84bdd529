"""The embedded SQLite job store holds to the JobStore contract (``imagegate.testing.JobStoreConformance``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from imagegate._job_store import SqliteJobStore
from imagegate.testing import JobStoreConformance


@pytest.fixture
async def job_store(tmp_path: Path) -> AsyncIterator[SqliteJobStore]:
    store = SqliteJobStore(tmp_path / "jobs.sqlite3")
    try:
        yield store
    finally:
        await store.aclose()


class TestSqliteJobStore(JobStoreConformance):
    pass
