"""Recorded jobs across a crash: a real ``imagegate serve http`` is SIGKILLed with one job queued
behind the provider's concurrency limit, one Replicate prediction processing and one OpenAI call
held by the fake; the restarted server runs the queued one, follows the prediction to its end
(without creating another) and reports the OpenAI call ``failed`` as ``interrupted`` with what it
may have cost. Also: the retention purge at start-up, and ``--async`` jobs cancelled from another
process. The job store is read directly (the SQLite file beside the spool) to see its state."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from imagegate._job_store import SqliteJobStore
from imagegate.testing import CliRun, run_cli, until

from .http_support import start_server_process, stop_server_process
from .support import SECRETS

_BOUND_S = 60.0


@pytest.fixture(autouse=True)
def _no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGEGATE_API_KEY", raising=False)  # the CLI acts as the local owner


async def imagegate(env: dict[str, str], *args: str) -> CliRun:
    return await run_cli(env, *args, secrets=SECRETS, timeout_s=_BOUND_S)


def jobs_store(tmp_path: Path) -> SqliteJobStore:
    return SqliteJobStore(tmp_path / "jobs.sqlite3")  # beside STORAGE__SPOOL_DIR (tmp_path/spool)


async def by_prompt(store: SqliteJobStore) -> dict[str, dict[str, Any]]:
    return {job["parameters"]["prompt"]: job for job in await store.list("local", 100)}


async def post(session: aiohttp.ClientSession, base_url: str, model: str, prompt: str) -> int:
    async with session.post(f"{base_url}/v1/images/generations", json={"model": model, "prompt": prompt}) as answer:
        return answer.status


async def test_a_killed_server_s_jobs_are_rerun_resumed_or_failed_after_a_restart(
        upstream_env: dict[str, str], tmp_path: Path, fake_openai: Any, fake_replicate: Any) -> None:
    env = {**upstream_env, "PROVIDERS__OPENAI__MAX_CONCURRENCY": "1"}
    store = jobs_store(tmp_path)
    fake_openai.hang()  # the OpenAI call is held unanswered: that job stays running
    fake_replicate.keep_processing = True  # the prediction stays "processing"
    server = await start_server_process(env, tmp_path / "serve.log")
    session = aiohttp.ClientSession()
    posts: list[asyncio.Task[int]] = []
    try:
        posts.append(asyncio.ensure_future(post(session, server.base_url, "gpt-image-2.6-sunburst", "held")))
        await until(lambda: fake_openai.calls_to("/images/generations"), timeout_s=_BOUND_S, what="the OpenAI call")
        posts.append(asyncio.ensure_future(post(session, server.base_url, "gpt-image-2.6-sunburst", "queued")))
        posts.append(asyncio.ensure_future(post(session, server.base_url, "flux-dev", "predicted")))

        async def crash_state() -> dict[str, dict[str, Any]] | None:
            jobs = await by_prompt(store)
            ready = (jobs.get("held", {}).get("status") == "running" and jobs.get("queued", {}).get("status") == "queued"
                     and jobs.get("predicted", {}).get("upstream")
                     and [p for p in fake_replicate.predictions.values() if p.record["status"] == "processing"])
            return jobs if ready else None

        before = await until(crash_state, timeout_s=_BOUND_S, what="the three jobs in place")
        assert before["predicted"]["status"] == "running" and len(fake_replicate.creates) == 1
        held_cost = before["held"]["cost"]["estimated_usd"]
        assert held_cost and held_cost > 0
    finally:
        stop_server_process(server)  # SIGKILL: nothing gets to clean up
        await asyncio.gather(*posts, return_exceptions=True)
        await session.close()
    [prediction] = fake_replicate.predictions.values()
    assert before["predicted"]["upstream"]["prediction"]["id"] == prediction.record["id"]
    assert {job["status"] for job in (await by_prompt(store)).values()} == {"queued", "running"}

    fake_openai.release()
    prediction.steps_left = 1  # the prediction finishes at its next poll
    restarted = await start_server_process(env, tmp_path / "serve2.log")
    try:
        async def all_ended() -> dict[str, dict[str, Any]] | None:
            jobs = await by_prompt(store)
            return jobs if all(job["status"] in {"succeeded", "failed", "canceled"} for job in jobs.values()) else None

        after = await until(all_ended, timeout_s=_BOUND_S, what="the taken-over jobs to end")
    finally:
        stop_server_process(restarted)
    queued, predicted, held = after["queued"], after["predicted"], after["held"]
    assert queued["status"] == "succeeded", queued["error"]
    assert predicted["status"] == "succeeded", predicted["error"]
    assert len(fake_replicate.creates) == 1  # followed, not paid again
    assert len(fake_openai.calls_to("/images/generations")) == 2  # the held call, then the queued job's
    for job in (queued, predicted):
        [image] = job["result"]["images"]
        assert list((tmp_path / "images").rglob(f"{image['id']}.*"))
    assert held["status"] == "failed" and held["reason"] == "interrupted"
    assert held["error"]["code"] == "unavailable" and held["error"]["retryable"] is True
    assert held["cost"]["estimated_usd"] == held_cost
    assert held["runner"]["pid"] == restarted.process.pid


async def test_serving_purges_finished_jobs_past_retention_and_frees_their_keys(
        upstream_env: dict[str, str], tmp_path: Path) -> None:
    env = {**upstream_env, "JOBS__RETENTION_H": "1"}
    store = jobs_store(tmp_path)
    base = {"object": "image.job", "owner": "local", "status": "succeeded", "operation": "generate",
            "model": "flux-dev", "parameters": {"prompt": "x"}, "fingerprint": "f", "runner": None}
    await store.create({**base, "id": "job_old", "idempotency_key": "old-key", "created_at": time.time() - 7200})
    await store.create({**base, "id": "job_recent", "idempotency_key": "new-key", "created_at": time.time() - 600})
    await store.create({**base, "id": "job_old_queued", "idempotency_key": None, "status": "queued",
                        "created_at": time.time() - 7200, "request": None, "runner": {"host": "elsewhere", "pid": 1}})
    server = await start_server_process(env, tmp_path / "serve.log")
    stop_server_process(server)
    assert await store.get("job_old") is None
    assert await store.get("job_recent") is not None
    assert (await store.get("job_old_queued"))["status"] == "queued"  # unfinished: never purged
    again = await store.create({**base, "id": "job_again", "idempotency_key": "old-key", "created_at": time.time()})
    assert again["id"] == "job_again"  # the purged job's key names nothing any more
    kept = await store.create({**base, "id": "job_other", "idempotency_key": "new-key", "created_at": time.time()})
    assert kept["id"] == "job_recent"


async def test_an_async_job_cancelled_from_another_process_cancels_the_prediction(
        upstream_env: dict[str, str], tmp_path: Path, fake_replicate: Any) -> None:
    fake_replicate.keep_processing = True
    submitted = await imagegate(upstream_env, "generate", "a kite", "-m", "flux-dev", "--async", "--json")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.json()
    assert job["status"] == "queued" and job["model"] == "flux-dev"
    store = jobs_store(tmp_path)

    async def predicting() -> Any:
        record = await store.get(job["id"])
        return record if record and record.get("upstream") else None

    running = await until(predicting, timeout_s=_BOUND_S, what="the prediction")
    assert running["status"] == "running" and running["runner"]["pid"] != 0
    canceled = await imagegate(upstream_env, "jobs", "cancel", job["id"], "--json")
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.json()["status"] == "canceled"
    await until(lambda: fake_replicate.cancels, timeout_s=_BOUND_S, what="the upstream cancel")
    [prediction] = fake_replicate.predictions.values()
    assert prediction.record["status"] == "canceled" and len(fake_replicate.creates) == 1
    waited = await imagegate(upstream_env, "jobs", "wait", job["id"])
    assert waited.returncode == 1 and waited.stdout.startswith(f"{job['id']}  canceled  generate  flux-dev")
