"""``--async`` and ``imagegate jobs`` on the offline default, in subprocesses like a user runs them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from imagegate._job_runs import owner_of
from imagegate._job_store import SqliteJobStore
from imagegate.testing import image_bytes

from .process_support import cli_env, dead_pid, run


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def store(tmp_path: Path) -> SqliteJobStore:
    return SqliteJobStore(tmp_path / "jobs.sqlite3")  # beside STORAGE__SPOOL_DIR (tmp_path/spool)


def add(tmp_path: Path, record: dict[str, Any]) -> None:
    asyncio.run(store(tmp_path).create(record))


def ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_async_prints_the_queued_job_and_wait_prints_its_images(env: dict[str, str], tmp_path: Path) -> None:
    submitted = ok(run(env, "generate", "a lighthouse", "--size", "128x64", "--async", "--json"))
    assert submitted["status"] == "queued" and submitted["object"] == "image.job"
    assert submitted["id"].startswith("job_") and submitted["parameters"]["prompt"] == "a lighthouse"
    assert not {"owner", "runner", "request", "idempotency_key"} & set(submitted)
    done = ok(run(env, "jobs", "wait", submitted["id"], "--json"))
    assert done["status"] == "succeeded" and done["finished_at"] >= done["started_at"]
    [image] = done["result"]["images"]
    assert Path(image["path"]).is_file() and (image["width"], image["height"]) == (128, 64)
    text = run(env, "jobs", "get", submitted["id"])
    assert text.returncode == 0, text.stderr
    line, path, meta = text.stdout.splitlines()
    assert line.startswith(f"{submitted['id']}  succeeded  generate  placeholder  ")
    assert path == image["path"] and json.loads(Path(meta).read_text())["prompt"] == "a lighthouse"
    assert [job["id"] for job in ok(run(env, "jobs", "list", "--json"))] == [submitted["id"]]


def test_an_async_edit_reads_a_path_relative_to_where_it_was_typed(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "in.png").write_bytes(image_bytes(96, 64))
    submitted = subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", "vary", "in.png",
                                "--async", "--json"], check=False, capture_output=True, text=True, env=env,
                               cwd=tmp_path, timeout=120)
    job = ok(submitted)
    assert job["operation"] == "variation"
    done = ok(run(env, "jobs", "wait", job["id"], "--json"))
    assert done["status"] == "succeeded", done["error"]
    assert (done["result"]["images"][0]["width"], done["result"]["images"][0]["height"]) == (96, 64)


def test_a_key_owns_its_jobs(env: dict[str, str]) -> None:
    mine = ok(run({**env, "IMAGEGATE_API_KEY": "k-mine"}, "generate", "a fox", "--async", "--json"))
    assert ok(run(env, "jobs", "wait", mine["id"], "--api-key", "k-mine", "--json"))["status"] == "succeeded"
    assert ok(run(env, "jobs", "list", "--json")) == []  # the local owner's jobs: none
    theirs = run(env, "jobs", "get", mine["id"], "--api-key", "k-theirs", "--json")
    assert theirs.returncode == 1 and json.loads(theirs.stdout)["error"]["code"] == "not_found"
    listed = ok(run(env, "jobs", "list", "--api-key", "k-mine", "--json"))
    assert [job["id"] for job in listed] == [mine["id"]]


def test_a_bad_request_is_refused_before_a_job_is_recorded(env: dict[str, str]) -> None:
    done = run(env, "generate", "x", "--size", "10x10", "--async", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["error"]["param"] == "size"
    assert ok(run(env, "jobs", "list", "--json")) == []
    clash = run(env, "generate", "x", "--async", "--dry-run", "--json")
    assert clash.returncode == 2 and "--dry-run" in json.loads(clash.stdout)["error"]["message"]
    missing = run(env, "jobs", "get", "job_nope")
    assert missing.returncode == 1 and missing.stderr.startswith("error: not_found [id]")


def test_wait_runs_what_a_dead_process_left_and_get_does_not(env: dict[str, str], tmp_path: Path) -> None:
    first = ok(run(env, "generate", "a cat", "--async", "--json"))
    done = ok(run(env, "jobs", "wait", first["id"], "--json"))
    [record] = asyncio.run(store(tmp_path).list("local", 1))
    dead = {"host": record["runner"]["host"], "pid": dead_pid()}
    orphan = {**record, "runner": dead, "result": None, "finished_at": None, "started_at": None}
    add(tmp_path, {**orphan, "id": "job_queued", "status": "queued"})
    add(tmp_path, {**orphan, "id": "job_running", "status": "running", "cost": {"estimated_usd": 0.5,
                                                                                  "actual_usd": None}})
    assert ok(run(env, "jobs", "get", "job_queued", "--json"))["status"] == "queued"  # reading runs nothing
    rerun = ok(run(env, "jobs", "wait", "job_queued", "--json"))
    assert rerun["status"] == "succeeded"
    assert rerun["result"]["images"][0]["id"] != done["result"]["images"][0]["id"]
    interrupted = run(env, "jobs", "wait", "job_running", "--json")  # taken over by the wait before: failed
    assert interrupted.returncode == 1
    failed = json.loads(interrupted.stdout)
    assert failed["status"] == "failed" and failed["reason"] == "interrupted"
    assert failed["error"]["code"] == "unavailable" and failed["cost"]["estimated_usd"] == 0.5


def test_wait_times_out_on_a_live_runner_and_cancel_ends_the_job(env: dict[str, str], tmp_path: Path) -> None:
    first = ok(run(env, "generate", "a cat", "--async", "--json"))
    ok(run(env, "jobs", "wait", first["id"], "--json"))
    [record] = asyncio.run(store(tmp_path).list("local", 1))
    alive = {**record, "id": "job_alive", "status": "running", "result": None, "finished_at": None,
             "runner": {**record["runner"], "pid": os.getpid()}, "owner": owner_of("k")}
    add(tmp_path, alive)
    waited = run(env, "jobs", "wait", "job_alive", "--timeout", "0.2", "--api-key", "k", "--json")
    assert waited.returncode == 1
    error = json.loads(waited.stdout)["error"]
    assert error["code"] == "timeout" and error["retryable"] and "still running" in error["message"]
    canceled = ok(run(env, "jobs", "cancel", "job_alive", "--api-key", "k", "--json"))
    assert canceled["status"] == "canceled" and canceled["finished_at"]
    again = run(env, "jobs", "wait", "job_alive", "--api-key", "k")
    assert again.returncode == 1 and again.stdout.startswith("job_alive  canceled  generate")


def test_jobs_help_says_where_an_async_job_runs() -> None:
    done = subprocess.run([sys.executable, "-c", "from imagegate.cli import main; main()", "generate", "--help"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert "--async" in done.stdout and "background" in done.stdout and "IMAGEGATE_API_KEY" in done.stdout
