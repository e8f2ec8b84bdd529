"""deploy/ as an operator runs it: three ``imagegate serve http`` replicas, Redis, an S3-compatible
store (moto) and nginx rendered from ``deploy/nginx.conf.template``, all on loopback with free ports,
configured from ``deploy/replica.env``; everything is stopped at the end, even when a check fails."""

from __future__ import annotations

import asyncio
import shutil
import socket
import string
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from imagegate import ImageRequest
from imagegate._job_runs import owner_of
from imagegate.testing import add_virtual_key, stop_process, until

from .http_support import GATEWAY_KEY, ServerProcess, start_server_process, stop_server_process
from .support import OPENAI_KEY, REPLICATE_TOKEN

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REPLICAS = 3
REQUEST = ImageRequest(prompt="a lighthouse", model="gpt-image-2", size="1024x1024", params={"quality": "low"})
BODY = {"model": "gpt-image-2", "prompt": "a harbour", "size": "1024x1024", "quality": "low"}

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None or shutil.which("nginx") is None,
    reason="needs redis-server and nginx (Debian packages redis-server, nginx; `make tools`)")


def replica_env() -> dict[str, str]:
    """``deploy/replica.env`` as the replicas read it."""
    lines = (line.strip() for line in (DEPLOY / "replica.env").read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@dataclass
class Deployment:
    url: str
    env: dict[str, str]
    replicas: list[ServerProcess]


@pytest.fixture
def redis_server() -> Iterator[Any]:
    from imagegate_redis.testing import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: Any) -> str:
    return str(redis_server.url)


def start_nginx(prefix: Path, port: int, upstreams: list[str]) -> subprocess.Popen[bytes]:
    """nginx from the deploy template, in its own prefix folder; returns once it listens."""
    servers = "\n        ".join(f"server {u.removeprefix('http://')} max_fails=2 fail_timeout=5s;" for u in upstreams)
    template = string.Template((DEPLOY / "nginx.conf.template").read_text())
    prefix.mkdir(parents=True)
    (prefix / "nginx.conf").write_text(template.safe_substitute(LISTEN=f"127.0.0.1:{port}", REPLICAS=servers))
    process = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            assert time.monotonic() < deadline, "nginx did not listen within 10 s"
            time.sleep(0.02)


@pytest.fixture
def deployment_env() -> dict[str, str]:
    """Settings a test adds to every replica's (parametrize it)."""
    return {}


@pytest.fixture
async def deployment(tmp_path: Path, fake_openai: Any, fake_replicate: Any, moto_server: Any, bucket: str,
                     redis_url: str, deployment_env: dict[str, str]) -> AsyncIterator[Deployment]:
    from imagegate_storage_s3.testing import FAKE_AWS_ENV, free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**replica_env(), **FAKE_AWS_ENV,
           "REDIS__URL": redis_url, "STORAGE__S3__BUCKET": bucket, "STORAGE__S3__ENDPOINT_URL": moto_server.url,
           "STORAGE__S3__MAX_ATTEMPTS": "1", "GATEWAY__PUBLIC_URL": url, "GATEWAY__API_KEYS": GATEWAY_KEY,
           "PROVIDERS__OPENAI__BASE_URL": fake_openai.base_url, "PROVIDERS__OPENAI__API_KEY": OPENAI_KEY,
           "PROVIDERS__OPENAI__MAX_RETRIES": "0", "PROVIDERS__OPENAI__RPM": "3", "PROVIDERS__OPENAI__TIMEOUT_S": "5",
           "PROVIDERS__REPLICATE__BASE_URL": fake_replicate.base_url, "PROVIDERS__REPLICATE__API_TOKEN": REPLICATE_TOKEN,
           "PROVIDERS__REPLICATE__MAX_RETRIES": "0",
           **deployment_env}
    replicas: list[ServerProcess] = []
    nginx = None
    try:
        for n in range(REPLICAS):
            replicas.append(await start_server_process(
                {**env, "STORAGE__SPOOL_DIR": str(tmp_path / f"replica{n}" / "spool")}, tmp_path / f"replica{n}.log"))
        nginx = start_nginx(tmp_path / "nginx", port, [replica.base_url for replica in replicas])
        yield Deployment(url, env, replicas)
    finally:
        if nginx is not None:
            stop_process(nginx)
        for replica in replicas:
            stop_server_process(replica)


async def test_three_replicas_behind_nginx_act_as_one(deployment: Deployment, fake_openai: Any,
                                                      env_gateway: Any, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    owner = owner_of(GATEWAY_KEY)

    # an idempotent request through two replicas' gateways: one upstream call, one job both read
    first_gateway = await env_gateway({**deployment.env, "STORAGE__SPOOL_DIR": str(tmp_path / "a")})
    other_gateway = await env_gateway({**deployment.env, "STORAGE__SPOOL_DIR": str(tmp_path / "b")})
    first = await first_gateway.run("generate", REQUEST, owner=owner, idempotency_key="order-1", digest="d")
    again = await other_gateway.run("generate", REQUEST, owner=owner, idempotency_key="order-1", digest="d")
    assert [image.id for image in again.images] == [image.id for image in first.images]
    assert fake_openai.call_count == 1
    [job] = await other_gateway.jobs.list(owner, 10)
    assert job["status"] == "succeeded"

    image_id = first.images[0].id
    link = first_gateway.file_signer().url(image_id, 300)
    assert link.startswith(deployment.url + "/files/")
    async with aiohttp.ClientSession() as session:
        # every replica serves the image from the shared bucket, and verifies the link signed with
        # the key the replicas share through Redis
        served_by = set()
        for _ in range(REPLICAS):
            async with session.get(link) as answer:
                assert answer.status == 200
                assert await answer.read() == await first_gateway.read(image_id)
                served_by.add(answer.headers["X-Imagegate-Replica"])
        assert len(served_by) == REPLICAS

        # PROVIDERS__OPENAI__RPM=3 holds for the replicas together: one call is spent above, so of
        # three requests sent to three different replicas the third is refused without a call
        statuses, served_by = [], set()
        for _ in range(REPLICAS):
            async with session.post(deployment.url + "/v1/images/generations", json=BODY, headers=headers) as answer:
                body = await answer.json()
                statuses.append((answer.status, body["error"]["code"] if "error" in body else None))
                served_by.add(answer.headers["X-Imagegate-Replica"])
    assert statuses == [(200, None), (200, None), (429, "rate_limited")]
    assert len(served_by) == REPLICAS
    assert fake_openai.call_count == 3


async def test_a_job_submitted_on_one_replica_is_repeated_polled_and_cancelled_on_the_others(
        deployment: Deployment, fake_openai: Any) -> None:
    first, second, third = (replica.base_url for replica in deployment.replicas)
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    asked = {**headers, "Prefer": "respond-async", "Idempotency-Key": "poster-7"}
    fake_openai.hang()  # the upstream takes as long as the test needs
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(first + "/v1/images/generations", json=BODY, headers=asked) as answer:
                assert answer.status == 202, await answer.text()
                job = await answer.json()
            # the same key on another replica is the same job, not a second call
            async with session.post(second + "/v1/images/generations", json=BODY, headers=asked) as answer:
                assert answer.status == 202 and (await answer.json())["id"] == job["id"]
            async with session.get(f"{second}/v1/images/jobs/{job['id']}", headers=headers) as answer:
                assert answer.status == 200 and (await answer.json())["status"] in ("queued", "running")
            async with session.delete(f"{third}/v1/images/jobs/{job['id']}", headers=headers) as answer:
                assert answer.status == 200, await answer.text()
            async with session.get(f"{second}/v1/images/jobs/{job['id']}", params={"wait": "20"},
                                   headers=headers) as answer:
                assert (await answer.json())["status"] == "canceled"
    finally:
        fake_openai.release()
    assert fake_openai.call_count <= 1  # one upstream call at most for both POSTs


async def test_a_keys_budget_holds_across_replicas_under_concurrent_load(
        deployment: Deployment, fake_openai: Any, env_gateway: Any, tmp_path: Path) -> None:
    gateway = await env_gateway({**deployment.env, "STORAGE__SPOOL_DIR": str(tmp_path / "keys")})
    estimate = (await gateway.estimate("generate", REQUEST))["cost"]["estimated_usd"]
    # made where the operator runs `imagegate keys create`: in the replicas' Redis
    secret = await add_virtual_key(gateway, "team", budget_usd=round(estimate * 2.5, 6), budget_period="day")
    headers = {"Authorization": f"Bearer {secret}"}
    async with aiohttp.ClientSession() as session:

        async def post() -> tuple[int, str | None, str]:
            async with session.post(deployment.url + "/v1/images/generations", json=BODY, headers=headers) as answer:
                body = await answer.json()
                return answer.status, body["error"]["code"] if "error" in body else None, answer.headers[
                    "X-Imagegate-Replica"]

        answers = await asyncio.gather(*(post() for _ in range(8)))
    assert sorted((status, code) for status, code, _ in answers) == [(200, None)] * 2 + [(429, "quota_exceeded")] * 6
    assert len({replica for _, _, replica in answers}) == REPLICAS  # the load was spread over all three
    assert fake_openai.call_count == 2  # refused before any upstream call
    [usage] = await gateway.keys.store.usage("team")
    assert usage.spent_usd <= round(estimate * 2.5, 6) and usage.requests == 2 and usage.reserved_usd == 0


async def test_redis_lost_and_back_gives_clear_errors_then_full_service(
        deployment: Deployment, fake_openai: Any, redis_server: Any) -> None:
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def ask(base: str, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
            async with session.request(method, base + path, headers=headers, **kwargs) as answer:
                return answer.status, await answer.json()

        assert (await ask(deployment.url, "GET", "/v1/images/jobs"))[0] == 200
        redis_server.stop()
        for replica in deployment.replicas:
            for method, path, kwargs in (("GET", "/v1/images/jobs", {}),
                                         ("POST", "/v1/images/generations", {"json": BODY})):
                status, body = await ask(replica.base_url, method, path, **kwargs)
                assert status == 503, body
                assert body["error"]["code"] == "unavailable" and body["error"]["retryable"] is True
            assert replica.process.poll() is None  # no crash
        assert fake_openai.call_count == 0  # nothing was sent upstream without the shared state

        redis_server.start()
        deadline = asyncio.get_running_loop().time() + 15
        for replica in deployment.replicas:
            while (status := (await ask(replica.base_url, "GET", "/v1/images/jobs"))[0]) != 200:
                assert status == 503 and asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.1)
        status, body = await ask(deployment.url, "POST", "/v1/images/generations", json=BODY)
        assert status == 200, body
    assert fake_openai.call_count == 1


async def burst(deployment: Deployment, requests: int) -> list[tuple[int, str]]:
    """``requests`` generations sent through nginx at once: each one's status and serving replica."""
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def post() -> tuple[int, str]:
            async with session.post(deployment.url + "/v1/images/generations", json=BODY, headers=headers) as answer:
                await answer.read()
                return answer.status, answer.headers["X-Imagegate-Replica"]

        return await asyncio.gather(*(post() for _ in range(requests)))


@pytest.mark.parametrize("deployment_env", [{"PROVIDERS__OPENAI__RPM": "120", "PROVIDERS__OPENAI__TIMEOUT_S": "4",
                                             "PROVIDERS__OPENAI__MAX_CONCURRENCY": "64"}])
async def test_a_provider_rpm_of_120_holds_across_three_replicas(deployment: Deployment, fake_openai: Any) -> None:
    """180 requests at once through nginx: the three replicas together start 120 upstream calls in
    the minute (the window), the others wait for a slot until their deadline and are refused."""
    answers = await burst(deployment, 180)
    statuses = [status for status, _ in answers]
    assert 114 <= fake_openai.call_count <= 126, fake_openai.call_count  # 120 within 5 %
    assert statuses.count(200) == fake_openai.call_count and statuses.count(429) == 180 - fake_openai.call_count
    assert len({replica for _, replica in answers}) == REPLICAS


@pytest.mark.parametrize("deployment_env", [{"PROVIDERS__OPENAI__MAX_CONCURRENCY": "4", "PROVIDERS__OPENAI__RPM": "1000",
                                             "PROVIDERS__OPENAI__TIMEOUT_S": "60"}])
async def test_a_provider_concurrency_limit_holds_across_three_replicas(deployment: Deployment,
                                                                        fake_openai: Any) -> None:
    """24 requests at once through nginx, each upstream call taking 0.2 s: the three replicas
    together never have more than 4 calls at the provider (12 if each held its own), and every
    request is served once a slot frees up."""
    fake_openai.latency_s = 0.2
    answers = await burst(deployment, 24)
    assert [status for status, _ in answers] == [200] * 24
    assert fake_openai.call_count == 24
    assert fake_openai.most_in_flight == 4  # reached, and never passed
    assert len({replica for _, replica in answers}) == REPLICAS

@pytest.mark.parametrize("deployment_env", [{"JOBS__HEARTBEAT_S": "0.5"}])
async def test_a_replica_killed_mid_job_has_its_jobs_resumed_or_reported_by_the_others(
        deployment: Deployment, fake_openai: Any, fake_replicate: Any, redis_url: str) -> None:
    """Replica A is SIGKILLed with a Replicate prediction processing and an OpenAI call held: a
    serving replica (not a restarted one) follows the prediction to its end without creating
    another, and reports the OpenAI job failed as ``interrupted``."""
    from imagegate_redis.job_store import RedisJobStore
    from imagegate_redis.settings import RedisSettings

    doomed, *others = deployment.replicas
    headers = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    store = RedisJobStore(RedisSettings(url=redis_url))  # the replicas' jobs, read as they are
    fake_openai.hang()
    fake_replicate.keep_processing = True
    try:
        async with aiohttp.ClientSession() as session:

            async def submit(body: dict[str, Any]) -> str:
                async with session.post(doomed.base_url + "/v1/images/generations", json=body,
                                        headers={**headers, "Prefer": "respond-async"}) as answer:
                    assert answer.status == 202, await answer.text()
                    return str((await answer.json())["id"])

            predicted = await submit({"model": "flux-dev", "prompt": "a lighthouse at dusk"})
            held = await submit(BODY)

            async def both_running() -> bool:
                jobs = [await store.get(predicted), await store.get(held)]
                return (all(job and job["status"] == "running" for job in jobs) and bool(jobs[0]["upstream"])
                        and bool(fake_openai.calls_to("/images/generations")))

            await until(both_running, timeout_s=60, what="both jobs running upstream on replica A")
            stop_server_process(doomed)  # SIGKILL: nothing gets to clean up
            [prediction] = fake_replicate.predictions.values()
            prediction.steps_left = 1  # it finishes at its next poll

            async def ended(job_id: str) -> dict[str, Any]:
                async with session.get(f"{deployment.url}/v1/images/jobs/{job_id}", params={"wait": "30"},
                                       headers=headers) as answer:
                    assert answer.status == 200, await answer.text()
                    return dict(await answer.json())

            resumed, reported = await ended(predicted), await ended(held)
            taken = [await store.get(predicted), await store.get(held)]
    finally:
        fake_openai.release()
        await store.aclose()
    assert resumed["status"] == "succeeded", resumed["error"]
    assert len(fake_replicate.creates) == 1  # followed, not paid again
    assert reported["status"] == "failed" and reported["reason"] == "interrupted"
    assert reported["error"]["code"] == "unavailable" and reported["error"]["retryable"] is True
    assert reported["cost"]["estimated_usd"] > 0  # what the interrupted call may have cost
    survivors = {replica.process.pid for replica in others}
    assert {job["runner"]["pid"] for job in taken} <= survivors


@pytest.mark.parametrize("deployment_env", [{"GATEWAY__AUTH_MAX_FAILURES": "3"}])
async def test_a_client_sending_wrong_keys_is_locked_out_by_every_replica_and_no_other_client(
        deployment: Deployment) -> None:
    """Two clients on two loopback addresses (127.0.0.2 and .3) reach nginx, which appends each one's
    address to X-Forwarded-For; the replicas trust nginx (127.0.0.1, deploy/replica.env) and count
    failed keys per client, in Redis: three wrong keys spread over the three replicas lock the first
    client out on all of them, whatever it writes into X-Forwarded-For itself, and only it."""
    assert deployment.env["GATEWAY__TRUSTED_PROXIES"] == "127.0.0.1"

    def client(address: str) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(deployment.url, connector=aiohttp.TCPConnector(local_addr=(address, 0)))

    async def get(session: aiohttp.ClientSession, key: str, spoofed: str | None = None) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {key}", **({"X-Forwarded-For": spoofed} if spoofed else {})}
        async with session.get("/v1/models", headers=headers) as answer:
            return answer.status, answer.headers["X-Imagegate-Replica"]

    async with client("127.0.0.2") as guesser, client("127.0.0.3") as other:
        tries = [await get(guesser, f"sk-guess-{n}", spoofed=f"192.0.2.{n}") for n in range(3)]
        assert [status for status, _ in tries] == [401] * 3
        assert len({replica for _, replica in tries}) == REPLICAS  # one failure on each replica
        locked = [await get(guesser, GATEWAY_KEY, spoofed="198.51.100.1") for _ in range(REPLICAS)]
        assert [status for status, _ in locked] == [429] * REPLICAS  # the right key too, on every replica
        assert len({replica for _, replica in locked}) == REPLICAS
        served = [await get(other, GATEWAY_KEY) for _ in range(REPLICAS)]
        assert [status for status, _ in served] == [200] * REPLICAS  # the other client is not locked out
