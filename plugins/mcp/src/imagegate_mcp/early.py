"""Answering ``initialize`` on stdio before the MCP SDK has loaded (importing it takes seconds).

:meth:`EarlyStdio.start` takes the wire the way the SDK's ``stdio_server()`` does (fd 0 reads
the null device, fd 1 writes to stderr, the wire is served from private duplicates) and starts
a thread that reads the first line. If it is a well-formed ``initialize`` request, the thread
answers it at once with the result the SDK would send (same server info, capabilities,
instructions and protocol-version negotiation). Then :meth:`EarlyStdio.streams` hands the SDK
that line and everything after it, so its session sees the handshake, and drops only the SDK's
own (duplicate) answer to that request id. Anything else on the first line is left to the SDK.

Only the standard library (and :mod:`imagegate_mcp.identity`) is imported here.
``IMAGEGATE_MCP_EARLY_INITIALIZE=0`` switches it off.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from .identity import INSTRUCTIONS, SERVER_NAME, SERVER_TITLE, server_version

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed import WriteableBuffer

    import anyio

__all__ = ["CAPABILITIES", "HANDSHAKE_PROTOCOL_VERSIONS", "TASKS_CAPABILITY", "EarlyStdio", "initialize_result"]

log = logging.getLogger("imagegate.mcp")

HANDSHAKE_PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""``mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS``; an unknown request gets the last one."""

CAPABILITIES: dict[str, Any] = {"prompts": {"listChanged": False},
                                "resources": {"listChanged": False, "subscribe": False},
                                "tools": {"listChanged": False}}
"""What the SDK derives from the server's handlers (prompts, tools and resources; no subscribe, no
listChanged)."""

_PARAM_KEYS = {"protocolVersion", "capabilities", "clientInfo", "_meta"}
_CLIENT_INFO_TEXT = {"name", "version", "title", "description", "websiteUrl"}


TASKS_VERSION = "2025-11-25"
TASKS_CAPABILITY: dict[str, Any] = {"cancel": {}, "list": {}, "requests": {"tools": {"call": {}}}}
"""What the server adds for 2025-11-25 (``imagegate_mcp.tasks.legacy_capability()``)."""


def initialize_result(requested_version: str, version: str) -> dict[str, Any]:
    """The ``InitializeResult`` the SDK sends this server (at ``version``) for ``requested_version``."""
    negotiated = (requested_version if requested_version in HANDSHAKE_PROTOCOL_VERSIONS
                  else HANDSHAKE_PROTOCOL_VERSIONS[-1])
    capabilities = {**CAPABILITIES, "tasks": TASKS_CAPABILITY} if negotiated == TASKS_VERSION else CAPABILITIES
    return {"capabilities": capabilities, "instructions": INSTRUCTIONS, "protocolVersion": negotiated,
            "serverInfo": {"name": SERVER_NAME, "title": SERVER_TITLE, "version": version}}


def _plain_initialize(message: Any) -> bool:
    """Whether ``message`` is an ``initialize`` request the SDK surely accepts (else it answers)."""
    if not isinstance(message, dict) or set(message) != {"jsonrpc", "id", "method", "params"}:
        return False
    request_id, params = message["id"], message["params"]
    if message["jsonrpc"] != "2.0" or message["method"] != "initialize" or not isinstance(params, dict):
        return False
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)) or not set(params) <= _PARAM_KEYS:
        return False
    info, capabilities = params.get("clientInfo"), params.get("capabilities")
    return (isinstance(params.get("protocolVersion"), str) and isinstance(capabilities, dict)
            and all(isinstance(value, dict) for value in capabilities.values())
            and isinstance(info, dict) and set(info) <= _CLIENT_INFO_TEXT
            and all(isinstance(info.get(key), str) for key in ("name", "version"))
            and all(isinstance(value, str) for value in info.values())
            and isinstance(params.get("_meta", {}), dict))


def _answer_line(request_id: int | str, result: dict[str, Any]) -> bytes:
    """The answer as the SDK writes it: compact JSON, result keys sorted, one line."""
    body = json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f'{{"jsonrpc":"2.0","id":{json.dumps(request_id, ensure_ascii=False)},"result":{body}}}\n'.encode()


def _private_dup(fd: int) -> int:
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


class EarlyStdio:
    """The stdio wire, taken before the SDK loads; the first ``initialize`` answered by a thread."""

    def __init__(self, wire_in: int, wire_out: int, stdin: int = 0, stdout: int = 1) -> None:
        self._wire_in, self._wire_out = wire_in, wire_out
        self._stdin, self._stdout = stdin, stdout
        self._head = b""
        self.answered: tuple[int | str, dict[str, Any]] | None = None
        """The id and result of the request answered early, once answered."""
        self._thread = threading.Thread(target=self._first_line, name="mcp-early-initialize", daemon=True)

    @classmethod
    def start(cls, stdin: int = 0, stdout: int = 1) -> EarlyStdio | None:
        """Take the wire (fds 0 and 1) and start answering; None when switched off or not possible here."""
        if os.environ.get("IMAGEGATE_MCP_EARLY_INITIALIZE", "1") == "0" or sys.platform == "win32":
            return None
        try:
            wire_in, wire_out = _private_dup(stdin), _private_dup(stdout)
        except OSError:
            return None
        early = cls(wire_in, wire_out, stdin, stdout)
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            try:
                os.dup2(null, stdin)
                os.dup2(2, stdout)
            finally:
                os.close(null)
        except OSError:
            early.restore()
            os.close(wire_in)
            os.close(wire_out)
            return None
        early._thread.start()
        return early

    def _first_line(self) -> None:
        """Read up to the first newline (or EOF); answer it when it is a plain ``initialize``."""
        try:
            version = server_version()  # before the read, so the answer is quick
            while b"\n" not in self._head:
                chunk = os.read(self._wire_in, 65536)
                if not chunk:
                    break
                self._head += chunk
            try:
                message = json.loads(self._head.partition(b"\n")[0])
            except ValueError:
                return
            if _plain_initialize(message):
                result = initialize_result(message["params"]["protocolVersion"], version)
                data = _answer_line(message["id"], result)
                while data:
                    data = data[os.write(self._wire_out, data):]
                self.answered = (message["id"], result)
        except Exception:
            log.exception("answering initialize early failed; the SDK answers it")

    def streams(self) -> tuple[anyio.AsyncFile[str], anyio.AsyncFile[str]]:
        """Text streams for ``stdio_server(stdin, stdout)``: the whole input, output minus the duplicate."""
        import anyio

        raw = _Handover(self.received, self._wire_in)
        reader = io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8", errors="replace")
        writer = _DropDuplicate(self, os.fdopen(self._wire_out, "wb", closefd=False))
        return anyio.wrap_file(reader), anyio.wrap_file(writer)  # type: ignore[arg-type]

    def received(self) -> bytes:
        """What the thread read (the first line, maybe more), once it has finished."""
        self._thread.join()
        return self._head

    def restore(self) -> None:
        """Point fds 0 and 1 at the wire again (as the SDK does when its transport exits)."""
        os.dup2(self._wire_in, self._stdin)
        os.dup2(self._wire_out, self._stdout)


class _Handover(io.RawIOBase):
    """The input as the SDK must see it: the bytes the thread read, then the rest of the wire.

    The wire descriptor is never closed: a worker thread may still be blocked reading it.
    """

    def __init__(self, received: Callable[[], bytes], wire_in: int) -> None:
        self._received = received
        self._wire_in = wire_in
        self._head: memoryview | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        if self._head is None:  # in a worker thread of the SDK's reader, so waiting blocks no event loop
            self._head = memoryview(self._received())
        if self._head:
            n = min(len(target), len(self._head))
            target[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return os.readv(self._wire_in, [target])


class _DropDuplicate:
    """The SDK's text output to the wire, without its answer to the request answered early."""

    def __init__(self, early: EarlyStdio, wire: io.BufferedWriter) -> None:
        self._early = early
        self._wire = wire
        self._dropped = False

    def write(self, text: str) -> int:
        if not self._dropped and self._early.answered is not None and self._is_duplicate(text):
            self._dropped = True
            log.debug("initialize %r was answered before the SDK loaded; its own answer is dropped",
                      self._early.answered[0])
            return len(text)
        self._wire.write(text.encode())
        return len(text)

    def flush(self) -> None:
        self._wire.flush()

    def _is_duplicate(self, text: str) -> bool:
        assert self._early.answered is not None
        request_id, sent = self._early.answered
        try:
            message = json.loads(text)
        except ValueError:
            return False
        if (not isinstance(message, dict) or "method" in message or type(message.get("id")) is not type(request_id)
                or message.get("id") != request_id):
            return False
        if message.get("result") != sent:
            log.warning("the SDK's initialize answer differs from the one sent early: %s",
                        json.dumps(message.get("result", message.get("error")))[:500])
        return True
