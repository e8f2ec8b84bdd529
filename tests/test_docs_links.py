"""The READMEs and docs a user reads on a fresh clone stay inside the repository: no link that
leaves it (a sibling folder, a file outside the clone) and no path of one particular machine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted({REPO / "README.md", *REPO.glob("docs/*.md"), *REPO.glob("plugins/*/README.md"),
                    *REPO.glob("observability/README.md")})
LINK = re.compile(r"\]\(([^)\s]+)")
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|root)/[\w.-]")
"""Paths of the machines this was written on (examples such as ``/Users/me/...`` are fine)."""
SIBLING = "shared"
"""The folder the project's specifications sat in beside the checkout; a clone has nothing beside it."""
FOREIGN = re.compile(rf"\.\./{SIBLING}\b")


def leaving_links(document: Path, text: str | None = None) -> list[str]:
    """Relative links whose target resolves outside the repository, and absolute file links."""
    found = []
    for target in LINK.findall(document.read_text() if text is None else text):
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):  # a URL or an anchor in the same page
            continue
        resolved = (document.parent / target.split("#", 1)[0]).resolve()
        if target.startswith("/") or not resolved.is_relative_to(REPO):
            found.append(target)
    return found


def test_there_are_documents_to_check() -> None:
    names = {path.relative_to(REPO).as_posix() for path in DOCUMENTS}
    assert {"README.md", "docs/configuration.md", "docs/plugin-hooks.md", "plugins/http/README.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=[p.relative_to(REPO).as_posix() for p in DOCUMENTS])
def test_document_stays_inside_the_repository(document: Path) -> None:
    text = document.read_text()
    assert leaving_links(document) == []
    assert FOREIGN.findall(text) == []
    assert [m.group(0) for m in MACHINE_PATH.finditer(text)] == []


def test_relative_links_point_at_files_that_exist() -> None:
    broken = [(doc.relative_to(REPO).as_posix(), target) for doc in DOCUMENTS
              for target in LINK.findall(doc.read_text())
              if not re.match(r"^[a-z][a-z0-9+.-]*:|^#", target)
              and not (doc.parent / target.split("#", 1)[0]).exists()]
    assert broken == []


def test_the_checks_catch_what_they_are_for() -> None:
    text = f"see [the contract](../{SIBLING}/CONTRACT.md), [x](/etc/hosts) and [y](docs/plugin-hooks.md); cd /work/main"
    assert leaving_links(REPO / "README.md", text) == [f"../{SIBLING}/CONTRACT.md", "/etc/hosts"]
    assert leaving_links(REPO / "docs" / "configuration.md", "[z](../../elsewhere.md)") == ["../../elsewhere.md"]
    assert FOREIGN.findall(text) and MACHINE_PATH.findall(text) == ["/work/m"]


def test_readme_starts_with_the_two_commands_and_shows_http_and_mcp() -> None:
    text = (REPO / "README.md").read_text()
    first_block = text.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block
    assert 'base_url="http://127.0.0.1:8080/v1"' in text and "curl -s http://127.0.0.1:8080/v1/images/generations" in text
    assert '"mcpServers"' in text and '"args": ["serve", "mcp"]' in text
    assert "](docs/configuration.md)" in text


def test_configuration_reference_lists_every_setting_of_the_installed_plugins() -> None:
    """Each field of each declared section appears as its variable (``PROVIDERS__<NAME>__`` for the
    limits every provider has, or ``__FIELD`` beside its section's first variable)."""
    from imagegate._settings import installed_settings_registry

    text = (REPO / "docs" / "configuration.md").read_text()
    missing = []
    for path, models in installed_settings_registry().sections.items():
        section = "__".join(path.split(".")).upper()
        for field in {name for model in models for name in model.model_fields}:
            names = (f"{section}__{field.upper()}", f"PROVIDERS__<NAME>__{field.upper()}", f"`__{field.upper()}`")
            if not any(name in text for name in names):
                missing.append(f"{section}__{field.upper()}")
    assert sorted(missing) == []
