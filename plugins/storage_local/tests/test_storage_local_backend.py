"""Local storage: discovery, the conformance suite, crash atomicity, URLs, writability."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from imagegate._errors import StorageError
from imagegate._filestore import FileStore, atomic_write
from imagegate._ids import new_image_id
from imagegate.testing import StorageConformance, assert_discovered
from imagegate_storage_local.backend import LocalStorage


def test_entry_point_is_discovered() -> None:
    assert assert_discovered("storage-local", "imagegate-storage-local").hooks == [
        "register_settings", "register_storage"]


class TestLocalConformance(StorageConformance):
    @pytest_asyncio.fixture
    async def storage(self, tmp_path: Path) -> AsyncIterator[LocalStorage]:
        backend = LocalStorage(tmp_path / "root")
        await backend.check_writable()
        yield backend
        await backend.aclose()


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a" / "img.png"

    def crash(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        atomic_write(target, b"x" * 1000)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the temporary file is cleaned up too


def test_a_write_killed_midway_leaves_no_file(tmp_path: Path) -> None:
    """SIGKILL a real process between writing the bytes and putting the file in place."""
    target = tmp_path / "img.png"
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from imagegate._filestore import atomic_write
        def stall(fd):
            print("written", flush=True)
            time.sleep(60)
        os.fsync = stall
        atomic_write(Path({str(target)!r}), b"x" * 5_000_000)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "written"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert not target.exists()
    assert FileStore(tmp_path).ids_sync() == []


async def test_unwritable_root_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="not writable") as caught:
        await LocalStorage(blocker / "root").check_writable()
    assert caught.value.retryable is False


async def test_urls_are_file_paths_or_signed_gateway_links(tmp_path: Path) -> None:
    image_id = new_image_id()
    plain = LocalStorage(tmp_path)
    await plain.save(image_id, b"\x89PNG....", {"extension": "png", "id": image_id})
    assert await plain.url(image_id, 60) == (Path(plain.local_path(image_id, {"extension": "png"})).as_uri())
    public = LocalStorage(tmp_path, public_url="http://gw.example:8080/")
    url = await public.url(image_id, 60)
    assert url.startswith(f"http://gw.example:8080/files/{image_id}?exp=") and "&sig=" in url
    signer = public.signer()
    assert signer is not None
    exp = url.split("exp=")[1].split("&")[0]
    sig = url.split("sig=")[1]
    assert signer.verify(image_id, exp, sig)
    assert not signer.verify(image_id, exp, "0" * len(sig))
    assert not signer.verify(new_image_id(), exp, sig)
    assert not signer.verify(image_id, "1", signer.signature(image_id, 1))  # expired
    # the generated key is kept in the root, so another process signs alike
    again = LocalStorage(tmp_path, public_url="http://gw.example:8080/").signer()
    assert again is not None and again.verify(image_id, exp, sig)
    assert (tmp_path / ".url-signing-key").stat().st_mode & 0o777 == 0o600


async def test_layout_is_date_sharded_with_metadata_beside(tmp_path: Path) -> None:
    image_id = new_image_id()
    storage = LocalStorage(tmp_path)
    metadata = {"extension": "png", "id": image_id}
    saved = await storage.save(image_id, b"data", metadata)
    path = Path(saved.path)
    assert saved.sha256 == hashlib.sha256(b"data").hexdigest() and "sha256" not in metadata
    day = image_id.split("_")[1]
    assert path == tmp_path / day[:4] / day[4:6] / day[6:] / f"{image_id}.png"
    assert path.with_suffix(".json").is_file()


def test_a_save_syncs_both_files_and_the_folder_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib
    import stat

    synced: list[str] = []
    real_fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording)
    image_id = new_image_id()
    metadata: dict[str, object] = {"id": image_id, "extension": "png", "sha256": None}
    path = FileStore(tmp_path).save_sync(image_id, "png", b"\x89PNG-bytes", metadata)
    assert sorted(synced) == ["dir", "file", "file"]
    assert path.read_bytes() == b"\x89PNG-bytes"
    assert metadata["sha256"] is None  # the caller's dict is left alone
    assert FileStore(tmp_path).metadata_sync(image_id)["sha256"] == hashlib.sha256(b"\x89PNG-bytes").hexdigest()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".tmp-")] == []


async def test_of_concurrent_deletes_of_one_id_exactly_one_succeeds(tmp_path: Path) -> None:
    import asyncio

    from imagegate._errors import NotFound

    backend = LocalStorage(tmp_path / "root")
    for _ in range(20):
        image_id = new_image_id()
        path = (await backend.save(image_id, b"\x89PNG data", {"id": image_id, "extension": "png"})).path
        results = await asyncio.gather(*(backend.delete(image_id) for _ in range(8)), return_exceptions=True)
        assert results.count(None) == 1, results
        assert all(isinstance(r, NotFound) for r in results if r is not None)
        assert not Path(path).exists()
        assert list(Path(path).parent.iterdir()) == []  # no claim left behind
