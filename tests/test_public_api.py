"""The public API fence: what plugin authors may import is locked, and bundled plugins keep to it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import imagegate
import imagegate.cli
import imagegate.files
import imagegate.frontend
import imagegate.testing

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_SOURCES = sorted([*ROOT.glob("plugins/*/src"), ROOT / "observability" / "src"])

# Changing one of these lists changes the contract with every third-party plugin: add names freely,
# remove or rename one only with a deprecation period.
PUBLIC = {
    imagegate: [
        "AuthenticationError", "BaseProvider", "Caller", "CommaList", "ContentFiltered",
        "DeprecatedModelRequested",
        "Event", "Gateway", "ImageDeleted", "ImageInput", "ImageOut", "ImageRequest", "ImageResult",
        "ImageStored", "ImagegateError", "InputImage", "InternalError", "InvalidRequest", "JobStore",
        "JobStoreRegistry", "KeySpent", "KeyStore", "KeyUsage", "Limiter", "ListsUpstreamModels", "Middleware", "ModelRetired", "ModelSpec",
        "NotFound", "Operation",
        "ParamSpec", "PermissionDenied", "PriceRule", "PriceSource", "Pricing", "Progress", "Provider",
        "ProviderCall", "ProviderImage", "ProviderRegistry", "ProviderResult", "ProviderSettings",
        "QuotaExceeded", "RateLimited", "RequestFailed", "RequestFinished", "RequestStarted", "Requirement",
        "RetryScheduled", "Saved", "Settings", "SettingsRegistry", "SizeSpec", "Status", "Step", "Storage",
        "StorageError", "StorageRegistry", "StoredEntry", "Timeout", "ToolHint", "Unavailable",
        "UpstreamError", "UpstreamModel", "Usage", "VirtualKey", "default_data_dir", "hookimpl", "open_gateway",
        "validate_request",
    ],
    imagegate.files: [
        "EXTENSIONS", "FORMAT_MIME", "FileStore", "MIME_FORMAT", "UrlSigner", "atomic_write", "is_image_id", "new_image_id",
        "shard_of", "signer_for", "sniff_mime",
    ],
    imagegate.frontend: [
        "BearerCheck", "Redactor", "SlidingWindow", "TrustedProxies", "check_schema", "configure_logging", "fingerprint",
        "load_failures", "make_plugin_manager", "owner_of", "read_body", "use_formatter",
    ],
    imagegate.cli: ["JSON_OPTION", "cli_gateway", "echo", "emit_json", "fail", "main", "run_async"],
}


@pytest.mark.parametrize("module", PUBLIC, ids=lambda m: m.__name__)
def test_all_is_locked(module: object) -> None:
    assert sorted(module.__all__) == sorted(PUBLIC[module])  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", [*PUBLIC, imagegate.testing], ids=lambda m: m.__name__)
def test_every_public_name_resolves(module: object) -> None:
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]  # type: ignore[attr-defined]
    assert missing == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        _ = imagegate.NoSuchThing  # type: ignore[attr-defined]


def _private_imports(path: Path) -> list[str]:
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "imagegate":
            modules = [node.module]
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names if a.name.split(".")[0] == "imagegate"]
            names = []
        else:
            continue
        private = [m for m in modules if any(part.startswith("_") for part in m.split("."))]
        private += [f"{node.module}.{n}" for n in names if n.startswith("_")]
        found += [f"{where}:{node.lineno}: {name}" for name in private]
    return found


def test_no_bundled_plugin_imports_a_private_name() -> None:
    offenders = [hit for root in PLUGIN_SOURCES for path in sorted(root.rglob("*.py"))
                 for hit in _private_imports(path)]
    assert offenders == [], "plugins must use imagegate.__all__ or a public home:\n" + "\n".join(offenders)


def test_the_private_import_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from imagegate._gateway import Gateway\nimport imagegate._catalog\n"
                      "from imagegate import _lazy, hookimpl\nfrom imagegate.files import FileStore\n")
    assert [hit.split(": ")[1] for hit in _private_imports(sample)] == [
        "imagegate._gateway", "imagegate._catalog", "imagegate._lazy"]
