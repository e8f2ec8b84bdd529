"""Job webhooks in the core: a job from a front-end without its own renderer is delivered as its
public record, signed; a failed attempt is retried after the back-off; closing awaits delivery;
the secret is checked when settings load and never logged."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from imagegate._errors import InvalidRequest
from imagegate._settings import Settings
from imagegate._webhooks import sign
from imagegate.testing import FakeSleep

from .pipeline_support import REQUEST, Scripted, make

KEY = b"k" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[web.Request], list[bytes]]]:
    """A receiver answering 500 once, then 200; the requests and bodies it got."""
    requests: list[web.Request] = []
    bodies: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        requests.append(request)
        bodies.append(await request.read())
        return web.Response(status=500 if len(requests) == 1 else 204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", requests, bodies
    finally:
        await runner.cleanup()


async def test_a_job_without_a_renderer_is_delivered_as_its_public_record(
        tmp_path: Path, receiver: tuple[str, list[web.Request], list[bytes]],
        caplog: pytest.LogCaptureFixture) -> None:
    url, requests, bodies = receiver
    sleep = FakeSleep()
    gateway, _ = await make(tmp_path, Scripted(), sleep,
                            gateway={"webhook_secret": SECRET, "webhook_allow_hosts": "127.0.0.1"})
    with caplog.at_level(logging.DEBUG, logger="imagegate"):
        try:
            submitted = await gateway.jobs.submit("generate", REQUEST, owner="o", webhook_url=url,
                                                  delivery={"frontend": "cli"})
            await submitted.task
        finally:
            await gateway.aclose()  # awaits the delivery and its retry
    assert len(requests) == 2 and sleep.delays[-1] == 1.0
    job = orjson.loads(bodies[1])
    assert job["id"] == submitted.record["id"] and job["status"] == "succeeded" and "owner" not in job
    headers = requests[1].headers
    assert headers["webhook-id"] == f"msg_{job['id']}"
    assert headers["webhook-signature"] == sign(KEY, headers["webhook-id"], int(headers["webhook-timestamp"]),
                                                bodies[1])
    assert SECRET not in caplog.text and SECRET[6:] not in caplog.text
    assert "attempt 1 of 5" in caplog.text


@pytest.mark.parametrize("secret", ["no-prefix", "whsec_%%%", "whsec_" + base64.b64encode(b"short").decode()])
def test_a_malformed_secret_is_refused_without_showing_it(secret: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        Settings(gateway={"webhook_secret": secret})
    assert "GATEWAY__WEBHOOK_SECRET" in str(refused.value) and secret not in str(refused.value)
