"""The plugin is found, registers backend "s3", and validates its settings and keys."""

from __future__ import annotations

import pytest

import imagegate_storage_s3
from imagegate._errors import InvalidRequest, NotFound, StorageError
from imagegate._ids import new_image_id
from imagegate._plugins import make_plugin_manager
from imagegate._registry import StorageRegistry
from imagegate._settings import Settings
from imagegate.testing import assert_discovered
from imagegate_storage_s3.backend import S3Storage
from imagegate_storage_s3.keys import KeyLayout
from imagegate_storage_s3.settings import S3Settings


def test_entry_point_is_discovered() -> None:
    assert_discovered("storage-s3", "imagegate-storage-s3", {"register_storage", "startup", "register_commands"})


def test_registers_backend_s3() -> None:
    pm = make_plugin_manager(entrypoints=False)
    pm.register(imagegate_storage_s3, name="storage-s3")
    registry = StorageRegistry()
    pm.hook.register_storage(register=registry)
    settings = Settings(storage={"backend": "s3", "s3": {"bucket": "pics", "endpoint_url": "http://127.0.0.1:1"}})
    storage = registry.factories["s3"](settings)
    assert isinstance(storage, S3Storage)
    assert storage.name == "s3"
    assert storage.local_path(new_image_id(), {"extension": "png"}) is None


def test_missing_bucket_setting_names_the_variable() -> None:
    settings = Settings(storage={"backend": "s3", "s3": {}})
    with pytest.raises(InvalidRequest) as caught:
        S3Storage.from_settings(settings)
    assert caught.value.param == "STORAGE__S3__BUCKET"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE__BACKEND", "s3")
    monkeypatch.setenv("STORAGE__S3__BUCKET", "pics")
    monkeypatch.setenv("STORAGE__S3__PREFIX", "/team/images/")
    monkeypatch.setenv("STORAGE__S3__ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("STORAGE__S3__URL_TTL_S", "120")
    storage = S3Storage.from_settings(Settings())
    assert storage.config.bucket == "pics"
    assert storage.config.prefix == "team/images"
    assert storage.config.url_ttl_s == 120
    assert storage.config.resolved_addressing_style() == "path"


def test_addressing_style_defaults() -> None:
    assert S3Settings(bucket="pics").resolved_addressing_style() == "auto"
    assert S3Settings(bucket="pics", endpoint_url="http://x").resolved_addressing_style() == "path"
    assert S3Settings(bucket="pics", endpoint_url="http://x", addressing_style="virtual"
                      ).resolved_addressing_style() == "virtual"


@pytest.mark.parametrize("prefix", ["a/../b", "a//b", "we ird", "a/./b"])
def test_unsafe_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        S3Storage.from_settings(Settings(storage={"s3": {"bucket": "pics", "prefix": prefix}}))
    assert caught.value.param == "STORAGE__S3__PREFIX"


def test_keys_come_only_from_valid_ids() -> None:
    layout = KeyLayout("imgs")
    image_id = new_image_id()
    day = image_id.split("_")[1]
    assert layout.meta_key(image_id) == f"imgs/{day[:4]}/{day[4:6]}/{day[6:]}/{image_id}.json"
    assert layout.image_key(image_id, "png").endswith(f"/{image_id}.png")
    assert layout.id_of_meta_key(layout.meta_key(image_id)) == image_id
    assert layout.id_of_meta_key(f"imgs/1999/01/01/{image_id}.json") is None
    assert layout.id_of_meta_key(layout.image_key(image_id, "png")) is None
    for hostile in ("../../etc/passwd", f"{image_id}/../x", "img_20260101_" + "a" * 25, ""):
        with pytest.raises(NotFound):
            layout.meta_key(hostile)
    with pytest.raises(StorageError):
        layout.image_key(image_id, "png/../../x")
    assert KeyLayout("").meta_key(image_id).startswith(day[:4] + "/")
