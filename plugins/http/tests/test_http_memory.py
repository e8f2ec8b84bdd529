"""Memory under body attacks, measured on a real ``imagegate serve http`` process (from /proc).

Before bodies were bounded, one 200 MB JSON body took the server from ~53 MB to ~650 MB resident
(454 MB never given back) and four at once to 1.6 GB. Now every body is refused at its limit
(a declared one before it is read), and the process's peak stays within a generous bound.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

from imagegate.testing import image_bytes
from imagegate_http.testing import raw_exchange

MB = 1024 * 1024
BOUNDARY = "b0undary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
PEAK_GROWTH_MB = 350  # the bodies below total over 1.5 GB; the limits keep it under 64 MB each
LEFT_GROWTH_MB = 150


def _status_kb(pid: int, field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (resident peak) of a process, in kB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _head(path: str, content_type: str, length: int | None = None) -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n".encode()


async def _chunked(first: bytes, filler: bytes, total: int) -> AsyncIterator[bytes]:
    """``first`` then ``filler`` until ``total`` bytes, in chunked transfer encoding."""
    for piece in [first] * bool(first) + [filler] * (total // len(filler)):
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def _part(name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()


async def _attacks(base_url: str) -> list[tuple[int, str]]:
    """Every attack at once; (status, error message) of each."""
    image = image_bytes() + b"\0" * (10 * MB)
    images = b"".join(_part("image[]", "a.png") + image + b"\r\n" for _ in range(8))
    attacks = [
        # declared 200 MB JSON bodies: refused on Content-Length, never read
        *(raw_exchange(base_url, _head("/v1/images/generations", "application/json", 200 * MB)) for _ in range(4)),
        # 200 MB chunked JSON bodies (no length to refuse early): cut at GATEWAY__MAX_JSON_KB
        *(raw_exchange(base_url, _head("/v1/images/generations", "application/json"),
                       _chunked(b'{"prompt": "', b"x" * MB, 200 * MB)) for _ in range(4)),
        # 8 x 10 MB images, then more: cut at GATEWAY__MAX_BODY_MB
        *(raw_exchange(base_url, _head("/v1/images/edits", MULTIPART), _chunked(images, b"\0" * MB, 200 * MB))
          for _ in range(2)),
        # a 200 MB text field: cut at GATEWAY__MAX_FIELD_KB
        raw_exchange(base_url, _head("/v1/images/edits", MULTIPART), _chunked(_part("prompt"), b"p" * MB, 200 * MB)),
        # 40 MB of empty parts: cut at GATEWAY__MAX_PARTS
        raw_exchange(base_url, _head("/v1/images/edits", MULTIPART),
                     _chunked(b"", (_part("f") + b"\r\n") * 20_000, 40 * MB)),
    ]
    answers = await asyncio.gather(*attacks)
    return [(answer.status, answer.json()["error"]["message"]) for answer in answers]


def _generate(base_url: str) -> None:
    body = json.dumps({"model": "placeholder", "prompt": "warm up", "size": "256x256"}).encode()
    request = urllib.request.Request(base_url + "/v1/images/generations", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


def test_body_attacks_are_refused_and_memory_stays_bounded(cli_server) -> None:
    server = cli_server()
    pid = server.process.pid
    _generate(server.base_url)  # everything a request needs is loaded before the baseline
    baseline = _status_kb(pid, "VmRSS")

    outcomes = asyncio.run(_attacks(server.base_url))

    peak, now = _status_kb(pid, "VmHWM"), _status_kb(pid, "VmRSS")
    settings = [message.split("; ")[-1] for _, message in outcomes]
    assert [status for status, _ in outcomes] == [413] * 11 + [400], outcomes
    assert settings[:8] == ["GATEWAY__MAX_JSON_KB raises the limit"] * 8
    assert settings[8:10] == ["GATEWAY__MAX_BODY_MB raises the limit"] * 2
    assert settings[10] == "GATEWAY__MAX_FIELD_KB raises the limit"
    assert "GATEWAY__MAX_PARTS" in outcomes[11][1]
    growth, left = (peak - baseline) / 1024, (now - baseline) / 1024
    print(f"RSS baseline {baseline / 1024:.0f} MB, peak +{growth:.0f} MB, after +{left:.0f} MB")
    assert growth < PEAK_GROWTH_MB, f"peak RSS grew by {growth:.0f} MB"
    assert left < LEFT_GROWTH_MB, f"RSS stayed {left:.0f} MB above the baseline"
    _generate(server.base_url)  # and the server still serves
