"""Every string a person sees has a German translation, and every catalog compiles.

The first test extracts the messages from a copy of the source, as ``makemessages``
does, and compares them with the translated entries of all German catalogs
(the main one and the apps' own). It uses the gettext tools themselves, so
message contexts, plurals and fuzzy entries count exactly as ``msgfmt`` counts them.
The checks live in scripts/check_translations.py, which `make lint` runs.
"""

from __future__ import annotations

import gettext
import os
import re
from pathlib import Path

import pytest

from scripts import check_translations as check
from tests.conftest import require

SRC, CATALOGS, MAIN_CATALOG = check.SRC, check.CATALOGS, check.MAIN_CATALOG


def _need(*tools: str) -> None:
    missing = check.missing_tools(*tools)
    require(not missing, f"gettext tools missing: {', '.join(missing)} (apt install gettext)")


def _run(*args: str | Path) -> str:
    try:
        return check.run(*args)
    except check.GettextError as exc:
        pytest.fail(str(exc))


def _extract(into: Path) -> Path:
    _need("xgettext", "msguniq", "msgattrib")
    return check.extract(into)


def test_there_are_german_catalogs() -> None:
    assert MAIN_CATALOG in CATALOGS and len(CATALOGS) > 1


def test_every_message_in_the_code_has_a_german_translation(tmp_path: Path) -> None:
    _need("xgettext", "msguniq", "msgattrib", "msgcat", "msgmerge")
    entries = check.untranslated_in_code(tmp_path)
    assert not entries, (
        f"{len(entries)} messages have no German translation; add them at the end of "
        f"{MAIN_CATALOG.relative_to(SRC.parents[1])} and compile it:\n\n" + "\n\n".join(entries)
    )


def test_no_catalog_has_an_untranslated_or_fuzzy_entry() -> None:
    _need("msgattrib")
    assert check.unfinished_in_catalogs() == {}


def test_the_catalog_check_finds_untranslated_and_fuzzy_entries(tmp_path: Path) -> None:
    """Guards the test above (and `make lint`) against a check that finds nothing."""
    _need("msgattrib")
    catalog = tmp_path / "django.po"
    catalog.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Done"\nmsgstr "Erledigt"\n\n'
        'msgid "Open"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Closed"\nmsgstr "Geschlossen"\n',
        encoding="utf-8",
    )
    found = check.unfinished_in_catalogs([catalog])
    assert list(found) == [catalog]
    assert [e.splitlines()[-2] for e in found[catalog]] == ['msgid "Open"', 'msgid "Closed"']


def test_the_extraction_sees_messages_from_code_and_templates(tmp_path: Path) -> None:
    """Guards the test above against an extraction that silently finds nothing."""
    text = _extract(tmp_path).read_text(encoding="utf-8")
    assert 'msgid "SLA escalation"' in text  # Python, core/jobs registry label
    assert 'msgid "Merge customers"' in text  # template, dataio
    assert "msgid_plural" in text and "msgctxt" in text
    assert len(re.findall(r"^msgid ", text, flags=re.MULTILINE)) > 1000


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: str(p.relative_to(SRC)))
def test_each_catalog_passes_msgfmt_check(catalog: Path) -> None:
    _need("msgfmt")
    _run("msgfmt", "--check", "-o", os.devnull, catalog)


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: str(p.relative_to(SRC)))
def test_each_compiled_catalog_holds_what_its_po_says(catalog: Path, tmp_path: Path) -> None:
    """A .po edited without recompiling the .mo would leave its new strings English."""
    _need("msgfmt")
    fresh = tmp_path / "fresh.mo"
    _run("msgfmt", "-o", fresh, catalog)
    committed = catalog.with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing; compile it with msgfmt"

    def messages(mo: Path) -> dict[object, str]:
        with mo.open("rb") as handle:
            return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]

    stale = set(messages(fresh).items()) ^ set(messages(committed).items())
    assert not stale, f"{committed.name} is out of date with its .po: recompile with msgfmt"
