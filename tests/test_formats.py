"""One table of image formats serves the catalog, byte sniffing, file names and the HTTP answer."""

from __future__ import annotations

from imagegate._catalog import FORMAT_MIME as CATALOG_FORMAT_MIME
from imagegate._formats import FORMAT_MIME, FORMATS, MIME_EXTENSION, MIME_FORMAT
from imagegate._imagetype import EXTENSIONS, ImageInfo, inspect_image
from imagegate.testing import image_bytes


def test_names_aliases_mime_types_and_extensions_agree() -> None:
    assert FORMAT_MIME["jpeg"] == FORMAT_MIME["jpg"] == "image/jpeg"
    assert MIME_FORMAT["image/jpeg"] == "jpeg" and MIME_EXTENSION["image/jpeg"] == "jpg"
    assert MIME_FORMAT["image/svg+xml"] == "svg" and FORMAT_MIME["svg"] == "image/svg+xml"
    assert set(MIME_FORMAT) == set(MIME_EXTENSION) == {f.mime_type for f in FORMATS} == set(FORMAT_MIME.values())


def test_the_catalog_and_the_sniffer_use_this_table() -> None:
    assert CATALOG_FORMAT_MIME is FORMAT_MIME and EXTENSIONS is MIME_EXTENSION
    info = inspect_image(image_bytes(4, 4))
    assert isinstance(info, ImageInfo) and info.extension == "png" and MIME_FORMAT[info.mime_type] == "png"
