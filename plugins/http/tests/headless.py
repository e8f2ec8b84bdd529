"""Debian's ``chromium``, headless, driven over the DevTools protocol (a websocket; aiohttp's client).

:func:`headless_chromium` starts the browser with a throw-away profile on a free loopback port (it
prints the DevTools address once it listens) and always stops it; :meth:`Chromium.new_page` opens
a tab. A :class:`Page` navigates, evaluates JavaScript, waits for a condition inside the page (no
sleeping in the test), takes screenshots, and keeps the page's uncaught exceptions and console
errors (Content-Security-Policy violations among them) for the test to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pybase64

CHROMIUM = "/usr/bin/chromium"
_LISTENING = re.compile(rb"DevTools listening on (ws://\S+)")


def chromium_path() -> str | None:
    """The Debian chromium binary, when installed (``make tools`` installs it with apt-get)."""
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


class DevToolsError(RuntimeError):
    """A DevTools command failed, or a script threw."""


class _Connection:
    """One browser websocket: commands by id (optionally to a tab's session), events to listeners."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.listeners: list[Any] = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            data = json.loads(message.data)
            if "id" in data:
                future = self.pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            else:
                for listener in list(self.listeners):
                    listener(data)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(DevToolsError("the browser closed the connection"))

    async def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        message: dict[str, Any] = {"id": next(self.ids), "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self.pending[message["id"]] = future
        await self.socket.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise DevToolsError(f"{method}: {answer['error']}")
        return answer.get("result", {})


class Page:
    """One tab, attached through a flat DevTools session."""

    def __init__(self, connection: _Connection, session: str) -> None:
        self.connection = connection
        self.session = session
        self.problems: list[str] = []
        self.events: list[dict[str, Any]] = []
        connection.listeners.append(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("sessionId") not in (None, self.session):
            return
        self.events.append(event)
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.problems.append(f"uncaught: {details.get('exception', {}).get('description') or details['text']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.problems.append(f"console: {params['entry']['text']}")
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.problems.append("console.error: " + " ".join(str(a.get("value", a.get("description")))
                                                             for a in params["args"]))

    async def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return await self.connection.send(method, params, self.session)

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (awaited when it is a promise)."""
        result = await self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                      "returnByValue": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise DevToolsError(details.get("exception", {}).get("description") or details["text"])
        return result["result"].get("value")

    async def wait_for(self, condition: str, timeout: float = 20) -> Any:
        """Wait until ``condition`` (a JavaScript expression) is truthy in the page; its value."""
        script = ("new Promise((resolve) => { const check = () => { let value; try { value = (%s); } "
                  "catch { value = null; } if (value) resolve(value); else setTimeout(check, 25); }; check(); })")
        try:
            return await asyncio.wait_for(self.evaluate(script % condition), timeout)
        except TimeoutError:
            body = await self.evaluate("document.body ? document.body.innerText : ''")
            msg = f"timed out waiting for {condition!r}; the page shows:\n{body}\nproblems: {self.problems}"
            raise AssertionError(msg) from None

    async def wait_for_event(self, method: str, predicate: Any = None, timeout: float = 20) -> dict[str, Any]:
        """The first event ``method`` (already received or coming) that ``predicate`` accepts."""
        found: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def accept(event: dict[str, Any]) -> bool:
            return event.get("method") == method and (predicate is None or predicate(event.get("params", {})))

        def listener(event: dict[str, Any]) -> None:
            if accept(event) and not found.done():
                found.set_result(event["params"])

        for event in self.events:
            if accept(event):
                return event["params"]
        self.connection.listeners.append(listener)
        try:
            return await asyncio.wait_for(found, timeout)
        finally:
            self.connection.listeners.remove(listener)

    async def click(self, selector: str) -> None:
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    async def fill(self, selector: str, value: str) -> None:
        await self.evaluate(f"(() => {{ const field = document.querySelector({json.dumps(selector)}); "
                            f"field.value = {json.dumps(value)}; "
                            "field.dispatchEvent(new Event('input', {bubbles: true})); })()")

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        await asyncio.to_thread(path.write_bytes, pybase64.b64decode(shot["data"]))
        return path


class Chromium:
    """The running browser."""

    def __init__(self, connection: _Connection) -> None:
        self.connection = connection

    async def new_page(self, width: int = 1280, height: int = 900) -> Page:
        target = await self.connection.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.connection.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                                         "flatten": True})
        page = Page(self.connection, attached["sessionId"])
        for domain in ("Page", "Runtime", "Log"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                               "deviceScaleFactor": 1, "mobile": False})
        return page

    async def allow_downloads(self, folder: Path) -> None:
        await self.connection.send("Browser.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": str(folder), "eventsEnabled": True})


async def _devtools_address(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    while line := await process.stderr.readline():
        if match := _LISTENING.search(line):
            return match[1].decode()
    msg = f"chromium exited ({await process.wait()}) before DevTools listened"
    raise DevToolsError(msg)


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


@contextlib.asynccontextmanager
async def headless_chromium(profile: Path, binary: str = CHROMIUM) -> AsyncIterator[Chromium]:
    """Start headless chromium with the profile folder ``profile``; stop it on leaving."""
    process = await asyncio.create_subprocess_exec(
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
        "--disable-background-networking", "--disable-component-update", "--mute-audio", "about:blank",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    drain: asyncio.Future[None] | None = None
    try:
        address = await asyncio.wait_for(_devtools_address(process), 60)
        assert process.stderr is not None
        drain = asyncio.ensure_future(_drain(process.stderr))
        async with aiohttp.ClientSession() as http, http.ws_connect(address, max_msg_size=0) as socket:
            connection = _Connection(socket)
            try:
                yield Chromium(connection)
            finally:
                connection.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connection.reader
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        if drain is not None:
            await drain
