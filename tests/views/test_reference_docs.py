"""The documentation site: its generated reference pages kept in step with the code
(the settings from the `Settings` class, the error codes from the registry, the syncs
from the engine), every setting placed on the settings page, and the site building
strictly (no broken link or anchor), offline."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.protocol import codes
from app.settings import Settings
from app.views import reference
from tests import assembled

ROOT = Path(__file__).resolve().parents[2]


def generated() -> dict[Path, str]:
    assembly = assembled.assembly()
    return reference.pages(Settings, assembly.engine, assembly.coverages)


def test_every_generated_page_is_committed_as_the_code_makes_it() -> None:
    stale = [
        str(page)
        for page, text in generated().items()
        if not (ROOT / page).exists() or (ROOT / page).read_text(encoding="utf-8") != text
    ]
    if stale:
        pytest.fail(f"{', '.join(stale)} stale: regenerate with `{reference.REGENERATE}`", pytrace=False)


def test_the_settings_reference_has_every_setting_with_its_description() -> None:
    page = generated()[reference.SETTINGS_PAGE]
    for name, field in Settings.model_fields.items():
        assert f"| `{name.upper()}` |" in page
        assert " ".join((field.description or "").split()) in page.replace("\\|", "|")


def test_a_setting_without_a_description_is_refused_naming_it() -> None:
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Undescribed(BaseSettings):
        model_config = SettingsConfigDict(use_attribute_docstrings=True)

        described: int = 1
        """Has one."""
        bare: int = 2

    with pytest.raises(ValueError, match="BARE"):
        reference.settings_markdown(Undescribed)


def test_the_error_codes_page_lists_every_declared_code_with_its_status_and_meaning() -> None:
    page = generated()[reference.ERROR_CODES_PAGE]
    for code in codes.request_level_codes() + codes.domain_codes():
        declared = codes.lookup(code)
        assert declared is not None
        assert f"| `{code}` | {declared.status} | {' '.join(declared.description.split())} |" in page


def test_the_concepts_page_has_every_concept_with_its_specification_actions_and_queries() -> None:
    page = generated()[reference.CONCEPTS_PAGE]
    engine = assembled.engine()
    for name, concept in engine.concepts.items():
        assert f"\n## {name}\n\n```text\nconcept {name}\n" in page  # its module's docstring, the specification
        for action in engine.concepts[name].__class__.__dict__:
            if not action.startswith("_") and asyncio.iscoroutinefunction(getattr(type(concept), action)):
                assert f"#### `{action}`" in page, f"{name}.{action}"
    for query in ("_getUser", "_getSessions", "_awaitResponse", "_getUserByUsername"):
        assert f"#### `{query}`" in page
    assert "#### `_asked`" not in page and "#### `_hashes`" not in page  # helpers, not queries


def test_the_settings_page_places_every_setting_under_a_topic() -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    topics = page.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    placed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", topics))
    # The deprecated spelling of REQUESTING_JOURNAL=off needs no topic of its own.
    expected = {name.upper() for name in Settings.model_fields} - {"REQUESTING_SAVE_RESPONSES"}
    assert expected - placed == set()


MKDOCS = Path(sys.executable).parent / "mkdocs"


@pytest.mark.skipif(not MKDOCS.exists() and not os.environ.get("CI"), reason="mkdocs is in the dev extra")
def test_the_site_builds_strictly_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "WARNING" not in done.stderr, done.stderr[-3000:]
    pages = [path.read_text(encoding="utf-8") for path in site.rglob("*.html")]
    assert len(pages) >= len(list((ROOT / "docs").rglob("*.md")))
    # Nothing the pages load comes from elsewhere: no web fonts, no scripts or styles from a CDN.
    loaded = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(https?:)?//", re.I)
    assert [page for page in pages if loaded.search(page)] == []
    shutil.rmtree(site)
