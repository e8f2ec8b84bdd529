"""Input images resolved in one place: ids, allowed paths, allowed hosts, base64; checked first."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from imagegate._errors import InvalidRequest, PermissionDenied
from imagegate._models import ImageInput, ImageRequest
from imagegate.testing import FakeSleep, build_gateway, image_bytes, temp_settings


async def open_gateway(tmp_path: Path, **input_settings: object):  # type: ignore[no-untyped-def]
    gateway = build_gateway(temp_settings(tmp_path, input=input_settings), sleep=FakeSleep())
    await gateway.open()
    return gateway


def edit(ref: ImageInput) -> ImageRequest:
    return ImageRequest(prompt="add a hat", images=[ref])


async def test_paths_only_under_allowed_roots(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "in.png").write_bytes(image_bytes(70, 70))
    (tmp_path / "secret.png").write_bytes(image_bytes())
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
    raw = base64.b64encode(image_bytes(66, 66)).decode()
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
            await gateway.run("edit", edit(ImageInput(kind="bytes", value=image_bytes(400, 400))))
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


def png_declaring(width: int, height: int, *, rows: int = 0) -> bytes:
    """A 1-bit greyscale PNG whose header says ``width`` x ``height``; with ``rows``, that many rows
    of zero pixels really follow (a decompression bomb: kilobytes that inflate to megabytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    idat = b"".join(packer.compress(row) for _ in range(rows)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.timeout(10)
async def test_a_fifo_in_an_allowed_folder_is_refused_at_once(tmp_path: Path) -> None:
    """Opening a FIFO for reading waits for a writer: the gateway never opens one to read."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    os.mkfifo(allowed / "pipe.png")
    gateway = await open_gateway(tmp_path, allowed_roots=[str(allowed)])
    try:
        for _ in range(12):  # more than the default thread pool could hold if each one hung
            with pytest.raises(InvalidRequest, match="not a regular file") as caught:
                await gateway.run("edit", edit(ImageInput(kind="path", value=str(allowed / "pipe.png"))))
            assert caught.value.param == "image"
    finally:
        await gateway.aclose()


@pytest.mark.timeout(10)
async def test_a_symlink_to_a_device_is_refused_not_read(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "zero.png").symlink_to("/dev/zero")
    gateway = await open_gateway(tmp_path, allowed_roots=[str(allowed), "/dev"])
    try:
        for trusted in (False, True):
            with pytest.raises(InvalidRequest, match="not a regular file") as caught:
                await gateway.run("edit", ImageRequest(
                    prompt="x", images=[ImageInput(kind="path", value=str(png_file(tmp_path)))],
                    mask=ImageInput(kind="path", value=str(allowed / "zero.png"))), trusted_paths=trusted)
            assert caught.value.param == "mask"
    finally:
        await gateway.aclose()


def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "allowed" / "in.png"
    path.write_bytes(image_bytes(64, 64))
    return path


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
async def test_a_file_longer_than_its_reported_size_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    """``/proc`` files say they are empty and then grow as they are read (like a file being appended
    to): reading stops one byte past the limit."""
    gateway = await open_gateway(tmp_path, max_mb=0.001)  # 1048 bytes
    try:
        with pytest.raises(InvalidRequest, match="over the limit of 1048 bytes") as caught:
            await gateway.run("edit", edit(ImageInput(kind="path", value="/proc/self/maps")), trusted_paths=True)
        assert caught.value.param == "image"
    finally:
        await gateway.aclose()


async def test_a_nul_character_in_a_path_is_an_invalid_request(tmp_path: Path) -> None:
    gateway = await open_gateway(tmp_path, allowed_roots=[str(tmp_path)])
    try:
        for trusted in (False, True):
            with pytest.raises(InvalidRequest, match="NUL") as caught:
                await gateway.run("edit", edit(ImageInput(kind="path", value=f"{tmp_path}/a\0.png")),
                                  trusted_paths=trusted)
            assert caught.value.param == "image"
    finally:
        await gateway.aclose()


@pytest.mark.parametrize(("data", "fragment"), [
    (png_declaring(50000, 50000), "declares more than 89478485 pixels"),  # header only
    (png_declaring(9500, 9500), "9500x9500 pixels; at most 89478485"),  # between Pillow's warning and error
    (png_declaring(15000, 15000, rows=15000), "declares more than 89478485 pixels"),  # a real bomb
], ids=["header-only", "over-the-limit", "bomb"])
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_decompression_bombs_and_huge_images_are_invalid_requests(tmp_path: Path, data: bytes,
                                                                        fragment: str) -> None:
    assert len(data) < 100_000
    gateway = await open_gateway(tmp_path)
    encoded = base64.b64encode(data).decode()
    try:
        for request, param in [
            (edit(ImageInput(kind="base64", value=encoded)), "image"),
            (ImageRequest(prompt="x", images=[ImageInput(kind="bytes", value=image_bytes())],
                          mask=ImageInput(kind="bytes", value=data)), "mask"),
        ]:
            with pytest.raises(InvalidRequest, match=fragment) as caught:
                await gateway.run("edit", request)
            assert caught.value.param == param
        with pytest.raises(InvalidRequest, match=fragment) as caught:
            await gateway.run("variation", ImageRequest(images=[ImageInput(kind="bytes", value=data)]))
        assert caught.value.param == "image"
    finally:
        await gateway.aclose()
