"""Input images resolved in one place: ids, allowed paths, allowed hosts, base64; checked first."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from imagegate.errors import InvalidRequest, PermissionDenied
from imagegate.models import ImageInput, ImageRequest
from imagegate.testing import FakeSleep, build_gateway, temp_settings

from .conftest import png_bytes


async def open_gateway(tmp_path: Path, **input_settings: object):  # type: ignore[no-untyped-def]
    gateway = build_gateway(temp_settings(tmp_path, input=input_settings), sleep=FakeSleep())
    await gateway.open()
    return gateway


def edit(ref: ImageInput) -> ImageRequest:
    return ImageRequest(prompt="add a hat", images=[ref])


async def test_paths_only_under_allowed_roots(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "in.png").write_bytes(png_bytes(70, 70))
    (tmp_path / "secret.png").write_bytes(png_bytes())
    gateway = await open_gateway(tmp_path, allowed_roots=[str(allowed)])
    try:
        result = await gateway.run("edit", edit(ImageInput(kind="path", value=str(allowed / "in.png"))))
        assert result.images[0].width == 70
        for sneaky in (str(tmp_path / "secret.png"), str(allowed / ".." / "secret.png")):
            with pytest.raises(PermissionDenied) as caught:
                await gateway.run("edit", edit(ImageInput(kind="path", value=sneaky)))
            assert caught.value.param == "image"
        (allowed / "link.png").symlink_to(tmp_path / "secret.png")
        with pytest.raises(PermissionDenied):
            await gateway.run("edit", edit(ImageInput(kind="path", value=str(allowed / "link.png"))))
        # the CLI may read any path its user names
        trusted = await gateway.run("edit", edit(ImageInput(kind="path", value=str(tmp_path / "secret.png"))),
                                    trusted_paths=True)
        assert trusted.images
    finally:
        await gateway.aclose()


async def test_base64_and_data_urls(tmp_path: Path) -> None:
    gateway = await open_gateway(tmp_path)
    raw = base64.b64encode(png_bytes(66, 66)).decode()
    try:
        for value in (raw, f"data:image/png;base64,{raw}"):
            result = await gateway.run("edit", edit(ImageInput.parse(value)))
            assert result.images[0].width == 66
        with pytest.raises(InvalidRequest, match="base64"):
            await gateway.run("edit", edit(ImageInput(kind="base64", value="not base64!!")))
    finally:
        await gateway.aclose()


async def test_non_images_and_oversize_inputs_are_refused(tmp_path: Path) -> None:
    gateway = await open_gateway(tmp_path, max_mb=0.001)
    try:
        with pytest.raises(InvalidRequest, match="not an image"):
            await gateway.run("edit", edit(ImageInput(kind="bytes", value=b"hello world")))
        with pytest.raises(InvalidRequest, match="at most"):
            await gateway.run("edit", edit(ImageInput(kind="bytes", value=png_bytes(400, 400))))
        with pytest.raises(InvalidRequest, match="no stored image"):
            await gateway.run("edit", edit(ImageInput(kind="id", value="img_20260101_" + "a" * 26)))
    finally:
        await gateway.aclose()


@pytest.mark.parametrize("url", [
    "http://example.com/a.png",  # not https
    "https://not-allowed.example/a.png",  # host not allowed
    "https://127.0.0.1/a.png",  # loopback, even if listed
    "https://localhost/a.png",
])
async def test_urls_only_https_on_allowed_public_hosts(tmp_path: Path, url: str) -> None:
    gateway = await open_gateway(tmp_path, allowed_hosts=["example.com", "127.0.0.1", "localhost"])
    try:
        with pytest.raises(PermissionDenied) as caught:
            await gateway.run("edit", edit(ImageInput(kind="url", value=url)))
        assert caught.value.param == "image"
    finally:
        await gateway.aclose()


def test_parse_guesses_the_kind() -> None:
    assert ImageInput.parse("img_20260101_" + "b" * 26).kind == "id"
    assert ImageInput.parse("https://x/y.png").kind == "url"
    assert ImageInput.parse("data:image/png;base64,AAAA").kind == "base64"
    assert ImageInput.parse("/tmp/a.png").kind == "path"
    assert ImageInput.parse("A" * 2000).kind == "base64"


def test_long_base64_is_recognised_even_with_slashes() -> None:
    data = base64.b64encode(b"\xff\xff\xff" + bytes(range(256)) * 8).decode()
    assert "/" in data[:64]
    assert ImageInput.parse(data).kind == "base64"
    assert ImageInput.parse("/tmp/picture.png").kind == "path"
