"""Outbound HTTP: URLs users name are fetched from public addresses only, checked by the
connection's own resolver, with redirects refused; the upstream session reads the environment only
for a proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from imagegate._errors import UpstreamError
from imagegate._http_client import download, new_session
from imagegate._public_fetch import PublicOnlyResolver, is_public_address, new_public_session


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.9", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("::1", False), ("fe80::1%eth0", False), ("fd00::1", False), ("224.0.0.1", False),
    ("0.0.0.0", False),
])
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


class FixedResolver:
    """Answers every lookup with the given addresses (what a rebinding DNS server would do)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[dict[str, Any]]:
        return [{"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0}
                for a in self.addresses]

    async def close(self) -> None:
        return None


async def test_the_resolver_refuses_a_host_with_any_private_address() -> None:
    assert [r["host"] for r in await PublicOnlyResolver(FixedResolver("8.8.8.8")).resolve("x.example")] == ["8.8.8.8"]
    for answer in [("8.8.8.8", "10.0.0.7"), ("127.0.0.1",), ()]:
        with pytest.raises(OSError, match="x.example resolves to a private"):
            await PublicOnlyResolver(FixedResolver(*answer)).resolve("x.example")


@asynccontextmanager
async def _serving(routes: dict[str, Any]) -> AsyncIterator[str]:
    """A loopback server of GET ``routes``; yields its ``host:port`` and always stops it."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield f"127.0.0.1:{test_server.port}"
    finally:
        await test_server.close()


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG fake", content_type="image/png")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/image.png")

    async with _serving({"/image.png": image, "/moved": moved}) as host:
        yield host


async def test_a_name_for_a_loopback_address_is_never_connected_to(server: str) -> None:
    port = server.split(":")[1]
    own = f"http://localhost:{port}"  # lets the URL past download's own check: the resolver is tested
    async with new_session() as ordinary:
        assert await download(ordinary, f"{own}/image.png", max_bytes=100, private_ok=own) == b"\x89PNG fake"
    async with new_public_session() as public:
        with pytest.raises(UpstreamError, match="ClientConnector"):
            await download(public, f"{own}/image.png", max_bytes=100, private_ok=own)


async def test_redirects_are_refused_when_asked(server: str) -> None:
    own = f"http://{server}"
    async with new_session() as session:
        assert await download(session, f"{own}/moved", max_bytes=100, private_ok=own) == b"\x89PNG fake"
        with pytest.raises(UpstreamError) as caught:
            await download(session, f"{own}/moved", max_bytes=100, follow_redirects=False, private_ok=own)
    assert "redirect (HTTP 302)" in caught.value.message and not caught.value.retryable


@pytest.mark.parametrize(("variables", "trusted"), [
    ({}, False), ({"HTTPS_PROXY": "http://proxy.example:3128"}, True), ({"ALL_PROXY": "http://p.example:1"}, True),
])
async def test_the_outbound_session_uses_the_environment_only_for_a_proxy(
        monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], trusted: bool) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    async with new_session() as session:
        assert session.trust_env is trusted
    async with new_public_session() as session:
        assert session.trust_env is False


async def test_a_host_that_does_not_resolve_names_the_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from imagegate._errors import InvalidRequest
    from imagegate._public_fetch import is_public_host

    async def no_answer(*args: Any, **kwargs: Any) -> Any:
        raise OSError("Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_answer)
    with pytest.raises(InvalidRequest) as caught:
        await is_public_host("nowhere.example", param="mask")
    assert caught.value.param == "mask" and caught.value.message == "mask: cannot resolve nowhere.example"



@pytest.fixture
async def own_host(server: str) -> AsyncIterator[str]:
    """A provider's loopback BASE_URL host serving a real PNG; its ``/bounce`` redirects to the
    other loopback server (another port: an internal service an output URL might point at)."""
    from imagegate.testing import image_bytes

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=image_bytes(), content_type="image/png")

    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://{server}/image.png")

    async with _serving({"/image.png": image, "/bounce": bounce}) as host:
        yield host


def private_urls(server: str, own_host: str) -> list[str]:
    port = own_host.split(":")[1]
    return [
        f"http://{server}/image.png",  # loopback, another port than BASE_URL's
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        f"http://localhost:{port}/image.png",  # a name resolving to loopback, even on BASE_URL's port
        "http://[::1]/image.png",
        f"http://{own_host}/bounce",  # BASE_URL's own host, redirecting elsewhere
    ]


async def test_output_urls_must_be_public_unless_on_the_providers_own_host(server: str, own_host: str) -> None:
    own = f"http://{own_host}/v1"
    async with new_session() as session:
        assert (await download(session, f"http://{own_host}/image.png", max_bytes=10_000, private_ok=own)
                ).startswith(b"\x89PNG")
        for url in private_urls(server, own_host):
            with pytest.raises(UpstreamError) as caught:
                await download(session, url, max_bytes=10_000, private_ok=own, provider="fake")
            assert "is not a public address" in caught.value.message, url
            assert not caught.value.retryable and caught.value.provider == "fake"


@pytest.mark.parametrize("case", range(6),
                         ids=["own host", "other port", "metadata", "loopback name", "ipv6 loopback", "redirect"])
async def test_the_gateway_fetches_outputs_only_from_public_hosts_or_the_providers_own(
        tmp_path: Any, server: str, own_host: str, case: int) -> None:
    from imagegate.testing import FakeSleep

    from .pipeline_support import REQUEST, Downloading, make

    provider = Downloading([f"http://{own_host}/image.png", *private_urls(server, own_host)][case])
    gateway, _ = await make(tmp_path, provider, FakeSleep(), providers={"fake": {"base_url": f"http://{own_host}/v1"}})
    try:
        if case == 0:
            assert (await gateway.run("generate", REQUEST)).images[0].width == 64
        else:
            with pytest.raises(UpstreamError, match="not a public address") as caught:
                await gateway.run("generate", REQUEST)
            assert caught.value.to_dict()["code"] == "upstream_error" and not caught.value.retryable
    finally:
        await gateway.aclose()


async def test_an_output_host_that_does_not_resolve_is_a_retryable_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    async def no_answer(*args: Any, **kwargs: Any) -> Any:
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_answer)
    async with new_session() as session:
        with pytest.raises(UpstreamError) as caught:
            await download(session, "https://files.example/out.png", max_bytes=100, provider="fake")
    assert caught.value.retryable and caught.value.message == "cannot resolve the output URL's host files.example"
