"""Every request is a job: recorded in the job store, run, and findable by id afterwards.

A job moves ``queued`` (waiting for the provider's concurrency slot) -> ``running`` (its first
upstream attempt started) -> ``succeeded`` / ``failed`` / ``canceled``, one store write per change.
Synchronous callers await the job's task; asynchronous ones get the record at once and poll (or
receive a webhook, see :mod:`~imagegate.webhooks`). An idempotency key (scoped to the owner) maps
a repeated request to the first one's job and result, without a second upstream call.

Every process that runs jobs notes in the job store that it lives (a heartbeat every
``JOBS__HEARTBEAT_S``). A serving gateway, when it opens and at each beat, takes over the jobs of
processes presumed dead (silent for three beats, or gone from this machine's process table, for
those sharing this host name and pid namespace):
queued generations run again, running ones whose provider recorded resumable upstream work (a
Replicate prediction) are resumed, and the others fail with reason ``interrupted``. The store's
claim is atomic, so of several replicas noticing one death exactly one takes each job. After its own
beat failed (the store was unreachable) a gateway takes nothing over for three beats, so that peers
that could not beat either are not taken for dead. A job canceled by another process sharing the
store (a replica, the CLI) is stopped by the process running it within a second; so is one another
process took over before its first upstream attempt began here (its caller here gets the result
made there). A job canceled before its first attempt is never sent upstream.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._errors import ImagegateError, InvalidRequest, NotFound, Unavailable, error_for_code
from ._job_store import UNFINISHED, JobStore, JobStoreRegistry, SqliteJobStore
from ._keys import KeyStore, SqliteKeyStore
from ._models import Cost, ImageOut, ImageRequest, ImageResult
from ._settings import JobsSettings

if TYPE_CHECKING:
    from ._catalog import Operation
    from ._gateway import Gateway

__all__ = ["FINISHED", "LOCAL", "JobHooks", "JobRuns", "Submitted", "fingerprint", "owner_of"]

log = logging.getLogger("imagegate.jobs")

FINISHED = ("succeeded", "failed", "canceled")
_PRIVATE = ("owner", "idempotency_key", "fingerprint", "request", "upstream", "runner", "delivery", "stored",
            "inputs")
_POLL_S = 0.2
_CANCEL_CHECK_S = 1.0
"""How often a running job's record is read for a cancel made by another process (a replica)."""
LOCAL = "local"


def owner_of(api_key: str | None) -> str:
    """The owner id of a caller: a hash of its key; ``local`` without one (the CLI, MCP over stdio,
    and HTTP when no keys are configured share these jobs)."""
    if not api_key:
        return LOCAL
    return "key_" + hashlib.sha256(api_key.encode()).hexdigest()[:24]


def fingerprint(operation: str, body: Any) -> str:
    """A digest of what was asked, to tell a repeated request from a different one with the same key."""
    import orjson

    return hashlib.sha256(operation.encode() + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _new_job_id() -> str:
    return "job_" + secrets.token_hex(12)


_HOST = socket.gethostname()


def _pid_namespace() -> int | None:
    """The pid namespace of this process (Linux): containers sharing a host name may not share it."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None


_PIDNS = _pid_namespace()
_MISSED_BEATS = 3
"""A process silent for this many heartbeats is presumed dead."""


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _dead(runner: dict[str, Any] | None, alive: set[str]) -> bool:
    """Whether the process that ran a job is presumed dead: one whose pid means the same process
    here (same host name and pid namespace) when its process is gone (a late beat of a busy process
    is no death); any other when its heartbeat lapsed. One of an older version, without heartbeats,
    is checked by its pid on this host and assumed alive elsewhere."""
    if not runner:
        return True
    if "id" not in runner:
        return runner.get("host") == _HOST and _process_gone(int(runner["pid"]))
    if runner.get("host") == _HOST and runner.get("pidns") == _PIDNS:
        return _process_gone(int(runner["pid"]))
    return runner["id"] not in alive


async def _wait(event: asyncio.Event, timeout_s: float) -> bool:
    """Whether ``event`` was set within ``timeout_s``."""
    try:
        await asyncio.wait_for(event.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


@dataclass(slots=True)
class JobHooks:
    """What the pipeline tells the job about its progress (see :class:`~imagegate._jobs.Delivery`)."""

    runs: JobRuns
    job_id: str
    resume_from: dict[str, Any] | None = None
    _started: bool = False

    estimated_usd: float | None = None

    def started(self, model: str, estimated_usd: float | None) -> None:
        """The first upstream attempt of ``model`` begins: the job is running (and may cost ``estimated_usd``)."""
        if not self._started:
            self._started = True
            self.estimated_usd = estimated_usd
            self.runs.write(self.job_id, {"status": "running", "started_at": time.time(), "model": model,
                                          "cost": {"estimated_usd": estimated_usd, "actual_usd": None}})

    @property
    def attempted(self) -> bool:
        """Whether an upstream attempt began (money may have been spent)."""
        return self._started

    def upstream(self, info: dict[str, Any]) -> None:
        """The provider created resumable upstream work (e.g. a prediction id)."""
        self.runs.write(self.job_id, {"upstream": info})


@dataclass(slots=True)
class Submitted:
    """A submitted job: its record, and (when it runs in this process) its task."""

    record: dict[str, Any]
    task: asyncio.Task[ImageResult] | None
    repeated: bool = False


def _stored(result: ImageResult) -> dict[str, Any]:
    """An :class:`ImageResult` as JSON, without image bytes."""
    return {"images": [{**image.as_dict(), "path": None, "revised_prompt": image.revised_prompt}
                       for image in result.images],
            "model": result.model, "provider": result.provider, "request_id": result.request_id,
            "cost": result.cost.as_dict(), "revised_prompt": result.revised_prompt,
            "parameters": result.parameters, "usage": result.usage, "notes": result.notes,
            "resolved_model": result.resolved_model, "substitutions": result.substitutions,
            "deprecation": result.deprecation, "grid": result.grid}


class JobRuns:
    """The gateway's jobs: submit, wait, list, cancel, and recover after a restart."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.settings = gateway.settings.section("jobs", JobsSettings)
        sqlite_path = self.settings.resolved_sqlite_path(gateway.settings.storage.resolved_spool_dir())
        stores = JobStoreRegistry()
        stores.add_job_store("sqlite", lambda _: SqliteJobStore(sqlite_path))
        stores.add_key_store("sqlite", lambda _settings, _jobs: SqliteKeyStore(sqlite_path))
        gateway.pm.hook.register_job_stores(register=stores)
        self.store: JobStore = stores.create(gateway.settings, self.settings.backend)
        self.key_store: KeyStore = stores.create_key_store(gateway.settings, self.settings.backend, self.store)
        """Where virtual keys are kept: beside the jobs (see :class:`~imagegate._callers.KeyRing`)."""
        self.runner = {"host": _HOST, "pidns": _PIDNS, "pid": os.getpid(), "id": secrets.token_hex(8)}
        """This process in the job store: recorded with every job it runs, and beating while it lives."""
        self._beating: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._lost: set[str] = set()
        """Jobs another gateway took over before they started here (their task follows the job there)."""
        self.tasks: dict[str, asyncio.Task[ImageResult]] = {}
        self._writes: dict[str, asyncio.Task[Any]] = {}
        self._ended: list[Any] = []
        """Callables told ``(record)`` when a job ends (webhooks)."""

    # writing -----------------------------------------------------------------------------------

    def write(self, job_id: str, fields: dict[str, Any]) -> None:
        """Record ``fields`` without waiting; writes of one job keep their order."""
        previous = self._writes.get(job_id)

        async def write() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await self.store.update(job_id, fields)

        task = asyncio.ensure_future(write())
        self._writes[job_id] = task
        task.add_done_callback(lambda t: self._writes.pop(job_id, None) if self._writes.get(job_id) is t else None)

    async def _flush(self, job_id: str) -> None:
        pending = self._writes.get(job_id)
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)

    # submitting --------------------------------------------------------------------------------

    async def submit(self, operation: Operation, request: ImageRequest, *, owner: str,
                     idempotency_key: str | None = None, digest: str | None = None,
                     delivery: dict[str, Any] | None = None, webhook_url: str | None = None,
                     **run_kwargs: Any) -> Submitted:
        """Record a job and start it (or find the job an idempotency key already names); a
        ``webhook_url`` is checked first (:meth:`~imagegate._webhooks.Webhooks.check`)."""
        if webhook_url is not None:
            await self.gateway.webhooks.check(webhook_url)
        await self._start_beating()
        replayable = not (request.images or request.mask or request.markup)
        record: dict[str, Any] = {
            "id": _new_job_id(), "object": "image.job", "status": "queued", "created_at": time.time(),
            "started_at": None, "finished_at": None,
            "model": request.model or self.gateway.default_model, "operation": operation,
            "parameters": {"prompt": request.prompt, "size": request.size, "n": request.n, **request.params},
            "cost": {"estimated_usd": None, "actual_usd": None}, "result": None, "error": None,
            "webhook_url": webhook_url, "owner": owner, "idempotency_key": idempotency_key,
            "fingerprint": digest, "delivery": delivery or {}, "runner": self.runner,
            "request": request.model_dump(exclude={"images", "mask", "markup"}) if replayable else None,
            "inputs": [ref.value for ref in (*request.images, request.mask, request.markup)
                       if ref is not None and ref.kind == "id"],
        }
        found = await self.store.create(record)
        if found["id"] != record["id"]:
            if found.get("fingerprint") != digest:
                msg = ("this Idempotency-Key was used with a different request; send a new key for a new "
                       "request, or the same body to get the first request's job")
                raise InvalidRequest(msg, param="Idempotency-Key")
            return Submitted(found, self.tasks.get(found["id"]), repeated=True)
        task = asyncio.ensure_future(self._execute(record, operation, request, run_kwargs))
        self.tasks[record["id"]] = task
        return Submitted(record, task)

    async def run(self, operation: Operation, request: ImageRequest, *, owner: str = LOCAL,
                  idempotency_key: str | None = None, digest: str | None = None, **run_kwargs: Any) -> ImageResult:
        """Serve a request synchronously as a recorded job; a repeated idempotency key gets the first
        job's result (waiting for it while it runs)."""
        submitted = await self.submit(operation, request, owner=owner, idempotency_key=idempotency_key,
                                      digest=digest, **run_kwargs)
        if submitted.task is not None:
            if not submitted.repeated:
                try:
                    return await asyncio.shield(submitted.task)
                except asyncio.CancelledError:
                    submitted.task.cancel()  # the pipeline finishes and stores what was paid for
                    await asyncio.wait([submitted.task])  # the upstream cancel is posted before we go
                    raise
            await asyncio.wait([submitted.task])
        record = await self.wait(submitted.record["id"], owner, float("inf"))
        return await self.finished(record, with_data=bool(run_kwargs.get("keep_base64")))

    async def finished(self, record: dict[str, Any], *, with_data: bool) -> ImageResult:
        """A finished job's result, or its error raised."""
        if record["status"] == "succeeded":
            return await self.result(record, with_data=with_data)
        error = record.get("error") or {"code": "internal", "message": f"the job was {record['status']}"}
        raise error_from_dict(error)

    async def _execute(self, record: dict[str, Any], operation: Operation, request: ImageRequest,
                       run_kwargs: dict[str, Any], resume_from: dict[str, Any] | None = None) -> ImageResult:
        job_id = record["id"]
        hooks = JobHooks(self, job_id, resume_from)
        watcher = asyncio.ensure_future(self._watch(job_id, asyncio.current_task(), hooks))
        try:
            result = await self.gateway.serve(operation, request, job_hooks=hooks, **run_kwargs)
        except asyncio.CancelledError:
            if job_id in self._lost:
                return await self._follow(job_id, with_data=bool(run_kwargs.get("keep_base64")))
            await self._end(record, {"status": "canceled", "cost": self._paid_so_far(hooks, record)})
            raise
        except ImagegateError as exc:
            fields = {"status": "failed", "error": {**exc.to_dict(), "type": exc.openai_type},
                      "cost": self._paid_so_far(hooks, record)}
            await self._end(record, fields)
            raise
        else:
            await self._end(record, {"status": "succeeded", "result": _stored(result),
                                     "cost": result.cost.as_dict()})
            return result
        finally:
            watcher.cancel()
            self.tasks.pop(job_id, None)

    async def _watch(self, job_id: str, task: asyncio.Task[Any] | None, hooks: JobHooks) -> None:
        """Cancel the job's task here once another process marked the job canceled in the store, or
        took it over (presuming this one dead) before its first upstream attempt: it runs there."""
        while task is not None:
            await asyncio.sleep(_CANCEL_CHECK_S)
            try:
                record = await self.store.get(job_id)
            except ImagegateError:
                continue  # the store is unavailable for now: look again later
            if record is None:
                continue
            if record["status"] == "canceled":
                task.cancel()
                return
            if (record.get("runner") or {}).get("id") != self.runner["id"]:
                if hooks.attempted:
                    log.warning("job %s was taken over by another gateway while its call ran here", job_id)
                else:
                    log.warning("job %s was taken over by another gateway before it started here; it runs there",
                                job_id)
                    self._lost.add(job_id)
                    task.cancel()
                return

    async def _follow(self, job_id: str, *, with_data: bool) -> ImageResult:
        """The result of a job another gateway took over from this one, once it ends there."""
        self._lost.discard(job_id)
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        self.tasks.pop(job_id, None)  # waiting below must not wait for this very task
        return await self.finished(await self.wait(job_id, None, float("inf")), with_data=with_data)

    @staticmethod
    def _paid_so_far(hooks: JobHooks, record: dict[str, Any]) -> dict[str, Any]:  # noqa: ARG004
        """Once an attempt started, the estimate is what may have been paid."""
        return {"estimated_usd": hooks.estimated_usd, "actual_usd": None}

    async def _end(self, record: dict[str, Any], fields: dict[str, Any]) -> None:
        await self._flush(record["id"])
        fields["finished_at"] = time.time()
        await asyncio.shield(self.store.update(record["id"], fields, only_if=UNFINISHED))
        if record.get("webhook_url") and self._ended:
            ended = await self.store.get(record["id"])
            for listener in self._ended:
                listener(ended)

    def on_end(self, listener: Any) -> None:
        self._ended.append(listener)

    # reading -----------------------------------------------------------------------------------

    async def get(self, job_id: str, owner: str | None) -> dict[str, Any]:
        """The owner's job (``not_found`` for another owner's); any owner's for None (an admin,
        see :attr:`~imagegate.Caller.jobs_owner`)."""
        record = await self.store.get(job_id) if job_id.startswith("job_") else None
        if record is None or owner not in (None, record["owner"]):
            msg = f"no job {job_id[:40]!r} for this API key"
            raise NotFound(msg, param="id")
        return record

    async def wait(self, job_id: str, owner: str | None, timeout_s: float) -> dict[str, Any]:
        """The job once finished, or as it is after ``timeout_s``."""
        record = await self.get(job_id, owner)
        deadline = time.monotonic() + timeout_s
        while record["status"] not in FINISHED and time.monotonic() < deadline:
            task = self.tasks.get(job_id)
            left = deadline - time.monotonic()
            if task is not None:
                await asyncio.wait([task], timeout=left)
                await self._flush(job_id)
            else:
                await asyncio.sleep(min(_POLL_S, left))
            record = await self.get(job_id, owner)
        return record

    async def list(self, owner: str | None, limit: int, before: str | None = None) -> list[dict[str, Any]]:
        return await self.store.list(owner, limit, before)

    async def cancel(self, job_id: str, owner: str | None) -> dict[str, Any]:
        """Cancel a queued or running job (its upstream too, where the provider can)."""
        record = await self.get(job_id, owner)
        task = self.tasks.get(job_id)
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        elif record["status"] in UNFINISHED:
            await self.store.update(job_id, {"status": "canceled", "finished_at": time.time()}, only_if=UNFINISHED)
        return await self.get(job_id, owner)

    async def result(self, record: dict[str, Any], *, with_data: bool) -> ImageResult:
        """A finished job's result with fresh URLs (and the bytes, ``with_data``)."""
        stored = record["result"]
        images: list[ImageOut] = []
        for item in stored["images"]:
            image = await self.gateway.describe(item["id"])
            if with_data:
                image.data = await self.gateway.read(item["id"])
            image.revised_prompt = item.get("revised_prompt")
            images.append(image)
        return ImageResult(images=images, model=stored["model"], provider=stored["provider"],
                           request_id=stored["request_id"], cost=Cost(**stored["cost"]),
                           revised_prompt=stored["revised_prompt"], parameters=stored["parameters"],
                           usage=stored["usage"], notes=stored["notes"], resolved_model=stored["resolved_model"],
                           substitutions=stored["substitutions"], deprecation=stored["deprecation"],
                           grid=stored.get("grid"))

    @staticmethod
    def public(record: dict[str, Any]) -> dict[str, Any]:
        """The job object callers see (no owner, key, request or runner)."""
        return {k: v for k, v in record.items() if k not in _PRIVATE}

    # lifetime ----------------------------------------------------------------------------------

    async def open(self, *, take_over: bool = True) -> None:
        """Purge expired jobs, start beating and (``take_over``) run the jobs of dead processes, now
        and at every beat."""
        purged = await self.purge()
        if purged:
            log.info("purged %d finished jobs older than JOBS__RETENTION_H=%g", purged, self.settings.retention_h)
        await self._start_beating(take_over=take_over)

    async def _start_beating(self, *, take_over: bool = False) -> None:
        """The first heartbeat (its error raised: the store is down), then one every beat."""
        if self._beating is not None:
            return
        async with self._starting:
            if self._beating is None:
                alive = await self._beat()
                if take_over:
                    await self._take_over_orphans(alive)
                self._beating = asyncio.ensure_future(self._keep_beating(take_over=take_over))

    async def _beat(self) -> set[str]:
        return await self.store.heartbeat(self.runner["id"], self.settings.heartbeat_s * _MISSED_BEATS)

    async def _keep_beating(self, *, take_over: bool) -> None:
        quiet = 0  # beats left without taking over: peers may have failed to beat when this one did
        while not await _wait(self._stopping, self.settings.heartbeat_s):
            try:
                alive = await self._beat()
                if quiet:
                    quiet -= 1
                elif take_over:
                    await self._take_over_orphans(alive)
            except Exception as exc:  # noqa: BLE001 - the beat must go on whatever one round met
                quiet = _MISSED_BEATS
                if isinstance(exc, ImagegateError):
                    log.warning("could not keep jobs alive in the job store: %s", exc.message)
                else:
                    log.exception("a heartbeat round failed; the next one tries again")

    async def _take_over_orphans(self, alive: set[str]) -> None:
        for job_id, runner in (await self.store.runners()).items():
            if job_id not in self.tasks and _dead(runner, alive):
                await self._take_over(job_id, runner)

    async def protected_ids(self) -> set[str]:
        """The stored images unfinished jobs take as inputs (retention keeps them)."""
        return {image_id for record in await self.store.unfinished() for image_id in record.get("inputs") or ()}

    async def purge(self) -> int:
        return await self.store.purge(time.time() - self.settings.retention_h * 3600)

    async def _take_over(self, job_id: str, runner: dict[str, Any] | None) -> None:
        record = await self.store.claim(job_id, self.runner, previous=(runner or {}).get("id"))
        if record is None:
            return  # it ended, or another gateway took it first
        log.info("taking over %s job %s of a gateway presumed dead", record["status"], record["id"])
        request = record.get("request")
        upstream = record.get("upstream")
        run_kwargs = {"frontend": "jobs", "keep_base64": False}
        if record["status"] == "queued" and request is not None:
            self._restart(record, ImageRequest.model_validate(request), run_kwargs)
        elif record["status"] == "running" and upstream and request is not None:
            self._restart(record, ImageRequest.model_validate(request), run_kwargs, resume_from=upstream)
        else:
            error = Unavailable("the gateway stopped while this job ran and could not resume it; send it again",
                                retryable=True)
            paid = record["cost"] if record["status"] == "running" else {"estimated_usd": None, "actual_usd": None}
            await self._end(record, {"status": "failed", "cost": paid, "reason": "interrupted",
                                     "error": {**error.to_dict(), "type": error.openai_type}})

    def _restart(self, record: dict[str, Any], request: ImageRequest, run_kwargs: dict[str, Any],
                 resume_from: dict[str, Any] | None = None) -> None:
        task = asyncio.ensure_future(self._execute(record, record["operation"], request, run_kwargs, resume_from))
        self.tasks[record["id"]] = task
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # its end is in the store

    async def aclose(self) -> None:
        """Let running jobs finish (they may be paid for) and their last writes land."""
        tasks = list(self.tasks.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in list(self._writes.values()):
            await asyncio.gather(task, return_exceptions=True)
        if self._beating is not None:  # only now: peers would take over jobs still finishing
            self._stopping.set()  # not cancelled: a beat under way ends before the store closes
            await asyncio.gather(self._beating, return_exceptions=True)
        await self.store.aclose()


def error_from_dict(error: dict[str, Any]) -> ImagegateError:
    """The error a job recorded, as an exception again."""
    cls = error_for_code(error.get("code", "internal"))
    fields = {k: error.get(k) for k in ("provider", "param", "retry_after", "retryable")}
    try:
        return cls(error.get("message", "the job failed"), **fields)
    except TypeError:
        return ImagegateError(error.get("message", "the job failed"), **fields)
