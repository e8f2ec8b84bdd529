"""``FakeUpstream``: the base of every fake provider API in the tests.

A real aiohttp server on ``127.0.0.1`` (a free port), started and stopped as an async context
manager. It records every request it receives (:class:`ReceivedCall`: method, path, headers without
the credential, parsed body, whether the credential was right), and before any route runs it can
answer with scripted failures (:meth:`FakeUpstream.fail_with`), hold requests until released
(:meth:`FakeUpstream.hang`) or for ``latency_s`` each (``most_in_flight`` counts how many it held at
once), refuse a wrong key (except on ``public_prefixes``, e.g. a CDN's
output files served by the same fake), and check what it received against a schema
(:meth:`FakeUpstream.problems_in`): problems are collected in ``schema_errors`` so a test can
assert that the gateway sent only what the real API takes. Subclasses add the provider's routes in
:meth:`FakeUpstream.add_routes` and answer exactly as the real service does::

    class FakeSolid(FakeUpstream):
        def add_routes(self, router):
            router.add_post("/v1/draw", self.draw)

        async def draw(self, request):
            return self.json(200, {"image": ...})

    async with FakeSolid(api_key="sk-test") as fake:
        ...  # point the provider's BASE_URL at fake.base_url
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

__all__ = ["CALL_KEY", "FakeUpstream", "FormPart", "ReceivedCall"]

CALL_KEY = web.RequestKey("imagegate.received_call", "ReceivedCall")
"""Where a handler finds the request's :class:`ReceivedCall` (``request[CALL_KEY]``)."""


@dataclass(frozen=True, slots=True)
class FormPart:
    """One multipart part as received."""

    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(slots=True)
class ReceivedCall:
    """One request the fake received (the credential header left out)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    authorized: bool
    form: list[FormPart] = field(default_factory=list)

    def json(self) -> Any:
        return self.body


@dataclass(slots=True)
class _Failure:
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    path: str | None


class FakeUpstream:
    """A loopback HTTP server that fakes one provider's API; subclass it and add routes."""

    auth_header = "Authorization"
    auth_scheme = "Bearer "
    base_path = "/v1"
    public_prefixes: tuple[str, ...] = ()
    """Paths (by prefix) that stand for another, public host, such as the CDN a provider serves its
    output files from: they are recorded, but answered without the key check or scripted failures."""
    error_content_type = "application/json"
    """The ``Content-Type`` of the fake's error answers (a 401, scripted failures of status >= 400)."""

    def __init__(self, *, api_key: str | None = None, strict_schema: bool = False) -> None:
        self.api_key = api_key
        self.strict_schema = strict_schema
        self.calls: list[ReceivedCall] = []
        self.schema_errors: list[str] = []
        self.port: int | None = None
        self._failures: list[_Failure] = []
        self._release = asyncio.Event()
        self._release.set()
        self._runner: web.AppRunner | None = None
        self.latency_s = 0.0
        """How long each call takes before its answer (so that calls overlap, as real ones do)."""
        self.in_flight = 0
        """Calls received and not yet answered; ``most_in_flight`` is the most there ever were."""
        self.most_in_flight = 0

    # what subclasses provide -------------------------------------------------------------------

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Add the provider's routes (handlers find the call as ``request[CALL_KEY]``)."""

    def problems_in(self, call: ReceivedCall) -> list[str]:
        """What is wrong with a received request by the API's published schema (none by default)."""
        return []

    def error_body(self, status: int, message: str) -> Any:
        """The provider's error JSON (OpenAI's shape by default)."""
        return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}

    # control -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The URL the provider's ``BASE_URL`` setting should name."""
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def calls_to(self, path_part: str, method: str | None = None) -> list[ReceivedCall]:
        """The calls whose path contains ``path_part`` (and whose method is ``method``)."""
        return [c for c in self.calls if path_part in c.path and (method is None or c.method == method)]

    def fail_with(self, status: int, body: Any = None, headers: dict[str, str] | None = None, *,
                  times: int = 1, path: str | None = None) -> None:
        """Answer the next ``times`` calls (whose path contains ``path``, if given) with this status,
        JSON body and headers, before any route runs."""
        self._failures.append(_Failure(status, body, dict(headers or {}), times, path))

    def hang(self) -> None:
        """Hold every following call without answering until :meth:`release` (or :meth:`stop`)."""
        self._release.clear()

    def release(self) -> None:
        """Let held calls go on."""
        self._release.set()

    @property
    def hanging(self) -> bool:
        return not self._release.is_set()

    def assert_valid(self) -> None:
        """Fail listing every schema problem seen so far."""
        assert not self.schema_errors, "; ".join(self.schema_errors[:5])

    # lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> FakeUpstream:
        app = web.Application(client_max_size=1024 ** 3, middlewares=[self._middleware()])
        self.add_routes(app.router)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()  # listening once this returns: no readiness polling needed
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeUpstream:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # plumbing ----------------------------------------------------------------------------------

    def json(self, status: int, body: Any, headers: dict[str, str] | None = None, *,
             content_type: str = "application/json") -> web.Response:
        """A JSON answer."""
        return web.Response(status=status, body=orjson.dumps(body), content_type=content_type,
                            headers=headers)

    def _middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def gate(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                return await answer(request, handler)
            finally:
                self.in_flight -= 1

        async def answer(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            call = await self._receive(request)
            request[CALL_KEY] = call
            problems = self.problems_in(call)
            self.schema_errors.extend(f"{call.method} {call.path}: {p}" for p in problems)
            await self._release.wait()
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if call.path.startswith(self.public_prefixes):
                return await handler(request)
            failure = self._next_failure(call.path)
            if failure is not None:
                return self.json(failure.status, failure.body, failure.headers, content_type=(
                    self.error_content_type if failure.status >= 400 else "application/json"))
            if not call.authorized:
                return self.json(401, self.error_body(401, "Incorrect API key provided."),
                                 content_type=self.error_content_type)
            if problems and self.strict_schema:
                return self.json(400, self.error_body(400, problems[0]), content_type=self.error_content_type)
            return await handler(request)

        return gate

    def _next_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.path is None or failure.path in path:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    async def _receive(self, request: web.Request) -> ReceivedCall:
        credential = request.headers.get(self.auth_header)
        authorized = self.api_key is None or credential == f"{self.auth_scheme}{self.api_key}"
        headers = {k: v for k, v in request.headers.items() if k.lower() != self.auth_header.lower()}
        form: list[FormPart] = []
        body: Any = None
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                form.append(FormPart(part.name or "", bytes(await part.read()), part.filename,  # type: ignore[union-attr]
                                     part.headers.get("Content-Type")))
        elif request.can_read_body:
            raw = await request.read()
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = raw
        call = ReceivedCall(request.method, request.path, headers, body, authorized, form)
        self.calls.append(call)
        return call
