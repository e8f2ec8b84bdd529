"""A fast loopback fake of OpenAI's images API (and Replicate's predictions) for benchmarks.

It answers ``POST /v1/images/generations`` with an ``ImagesResponse`` holding a real,
incompressible PNG as ``b64_json``: ``big`` (1024x1024, about 2 MB) or ``small`` (256x256,
about 120 KB). The answer body is built once per image at start, so the fake itself costs almost
nothing per request. ``POST /v1/models/{owner}/{name}/predictions`` answers a succeeded
Replicate prediction whose output URL is served by the same server (``GET /files/{big|small}.png``).

The delay and the image are settings of the running server: ``FakeUpstream.delay_s`` and
``.image`` in-process, or ``POST /_control {"delay_ms": 200, "image": "small"}`` when it runs as
its own process (``python -m bench.fake_upstream`` prints ``{"port": N}`` and serves until killed).
``{"hold": true}`` holds every following call unanswered (on an event, no timer) until
``{"hold": false}``; the control's answer says how many are ``holding``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field

import orjson
import pybase64
from aiohttp import web

SIZES = {"big": 1024, "small": 256}


def noise_png(side: int, seed: int = 9) -> bytes:
    """A PNG of ``side``x``side`` RGB noise with 5 random bits per byte (~0.62 bytes/byte, no better)."""
    from PIL import Image

    raw = random.Random(seed).randbytes(side * side * 3)
    raw = raw.translate(bytes(b & 0xF8 for b in range(256)))
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), raw).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


@dataclass
class Prepared:
    """One image and its pre-encoded answers."""

    png: bytes
    side: int
    images_body_head: bytes  # everything of the ImagesResponse before the `created` value
    images_body_tail: bytes


def _prepare(side: int) -> Prepared:
    png = noise_png(side)
    b64 = pybase64.b64encode(png)
    usage = {"total_tokens": 4210, "input_tokens": 50, "output_tokens": 4160,
             "input_tokens_details": {"text_tokens": 50, "image_tokens": 0}}
    tail = (b',"data":[{"b64_json":"' + b64 + b'"}],"background":"opaque","output_format":"png",'
            b'"size":"' + f"{side}x{side}".encode() + b'","quality":"high","usage":' + orjson.dumps(usage) + b"}")
    return Prepared(png=png, side=side, images_body_head=b'{"created":', images_body_tail=tail)


@dataclass
class FakeUpstream:
    """The fake server; ``await start()`` then ``await stop()``."""

    delay_s: float = 0.0
    image: str = "big"
    host: str = "127.0.0.1"
    port: int = 0
    calls: int = 0
    received: list[dict] = field(default_factory=list)
    keep_bodies: int = 20
    holding: int = 0
    _images: dict[str, Prepared] = field(default_factory=dict)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (ends in ``/v1``)."""
        return f"http://{self.host}:{self.port}/v1"

    def prepared(self, name: str) -> Prepared:
        """The pre-encoded image named ``big`` or ``small``."""
        return self._images[name]

    async def start(self) -> FakeUpstream:
        """Build the images and listen on a free port."""
        self._released.set()
        loop = asyncio.get_running_loop()
        for name, side in SIZES.items():
            self._images[name] = await loop.run_in_executor(None, _prepare, side)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/images/generations", self._generations)
        app.router.add_post("/v1/models/{owner}/{name}/predictions", self._prediction)
        app.router.add_get("/files/{name}.png", self._file)
        app.router.add_post("/_control", self._control)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp exposes no getter
        return self

    async def stop(self) -> None:
        """Stop listening and close connections."""
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _record(self, request: web.Request) -> dict:
        body = await request.json(loads=orjson.loads) if request.can_read_body else {}
        self.calls += 1
        if len(self.received) < self.keep_bodies:
            self.received.append({"path": request.path, "body": body})
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if not self._released.is_set():
            self.holding += 1
            try:
                await self._released.wait()
            finally:
                self.holding -= 1
        return body

    async def _generations(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "")[:10] != "Bearer sk-":
            return web.json_response({"error": {"message": "Incorrect API key provided.", "type":
                                      "invalid_request_error", "param": None, "code": "invalid_api_key"}},
                                     status=401)
        body = await self._record(request)
        prep = self._images[self.image]
        n = max(1, min(int(body.get("n") or 1), 10))
        head = prep.images_body_head + str(int(time.time())).encode()
        tail = prep.images_body_tail
        if n > 1:  # repeat the data item n times
            start = tail.index(b"[") + 1
            end = tail.index(b"]")
            tail = tail[:start] + b",".join([tail[start:end]] * n) + tail[end:]
        return web.Response(body=head + tail, content_type="application/json")

    async def _prediction(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        pid = os.urandom(10).hex()
        answer = {
            "id": pid, "model": f"{request.match_info['owner']}/{request.match_info['name']}",
            "version": "bench", "input": body.get("input", {}), "logs": "", "error": None,
            "status": "succeeded", "created_at": now, "started_at": now, "completed_at": now,
            "data_removed": False, "metrics": {"predict_time": self.delay_s},
            "output": [f"http://{self.host}:{self.port}/files/{self.image}.png"],
            "urls": {"get": f"http://{self.host}:{self.port}/v1/predictions/{pid}",
                     "cancel": f"http://{self.host}:{self.port}/v1/predictions/{pid}/cancel"},
        }
        return web.Response(body=orjson.dumps(answer), status=201, content_type="application/json")

    async def _file(self, request: web.Request) -> web.Response:
        prep = self._images.get(request.match_info["name"])
        if prep is None:
            raise web.HTTPNotFound
        return web.Response(body=prep.png, content_type="image/png")

    async def _control(self, request: web.Request) -> web.Response:
        body = await request.json(loads=orjson.loads)
        if "delay_ms" in body:
            self.delay_s = float(body["delay_ms"]) / 1000
        if "image" in body:
            if body["image"] not in SIZES:
                raise web.HTTPBadRequest(text="image must be big or small")
            self.image = body["image"]
        if "hold" in body:
            (self._released.clear if body["hold"] else self._released.set)()
        return web.json_response({"delay_ms": self.delay_s * 1000, "image": self.image, "calls": self.calls,
                                  "holding": self.holding,
                                  "png_bytes": {k: len(v.png) for k, v in self._images.items()}})


async def _serve(port: int) -> None:
    fake = await FakeUpstream(port=port).start()
    sys.stdout.write(orjson.dumps({"port": fake.port}).decode() + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.stop()


def main() -> None:
    """Serve the fake in this process until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(_serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
