"""Fail when the German UI would show English: `make lint` runs this.

Three checks, with the gettext tools themselves (so contexts, plurals and fuzzy
flags count exactly as ``msgfmt`` counts them):

- every German catalog compiles (``msgfmt --check``);
- no catalog has an untranslated or fuzzy entry;
- every msgid in the code and templates has a German translation in one of them.

tests/test_translations.py runs the same functions, so the check and the test
cannot drift apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "stammkunde"
CATALOGS = sorted(SRC.glob("**/locale/de/LC_MESSAGES/django.po"))
MAIN_CATALOG = SRC / "locale/de/LC_MESSAGES/django.po"
TOOLS = ("xgettext", "msguniq", "msgattrib", "msgcat", "msgmerge", "msgfmt")


class GettextError(RuntimeError):
    """A gettext tool failed (its message says why)."""


def missing_tools(*tools: str) -> list[str]:
    return [tool for tool in tools or TOOLS if shutil.which(tool) is None]


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise GettextError(f"{' '.join(map(str, args))} failed:\n{done.stderr}")
    return done.stdout


def extract(into: Path) -> Path:
    """All msgids of the code and templates, as an untranslated German catalog."""
    copy = into / "stammkunde"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (copy / "locale").mkdir()
    # Without settings makemessages writes only into the copy's own locale folder;
    # with them it would pick LOCALE_PATHS, the real catalog.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    run(
        sys.executable,
        *("-m", "django", "makemessages", "-l", "de", "--no-obsolete", "-e", "html,py,txt"),
        cwd=copy,
        env=env,
    )
    return copy / "locale/de/LC_MESSAGES/django.po"


def _entries(listing: str) -> list[str]:
    # msgattrib keeps the header entry (msgid "") in front of what it lists
    return [
        e
        for e in listing.strip().split("\n\n")
        if "msgid" in e and '\nmsgid ""\nmsgstr "' not in f"\n{e}"
    ]


def untranslated_in_code(workdir: Path) -> list[str]:
    """Messages of the code and templates that no German catalog translates."""
    extracted = extract(workdir)
    translated = []
    for number, catalog in enumerate(CATALOGS):
        only_done = workdir / f"translated-{number}.po"
        run("msgattrib", "--translated", "--no-fuzzy", "--no-obsolete", "-o", only_done, catalog)
        if only_done.exists():  # msgattrib writes nothing for a catalog without translations
            translated.append(only_done)
    known = workdir / "known.po"
    run("msgcat", "--use-first", "-o", known, *translated)
    merged = workdir / "merged.po"
    run("msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged, known, extracted)
    return _entries(run("msgattrib", "--untranslated", "--no-obsolete", merged))


def unfinished_in_catalogs(catalogs: list[Path] = CATALOGS) -> dict[Path, list[str]]:
    """Per catalog, its untranslated and its fuzzy entries (obsolete ones do not show)."""
    found = {}
    for catalog in catalogs:
        entries = _entries(run("msgattrib", "--untranslated", "--no-obsolete", catalog))
        entries += _entries(run("msgattrib", "--only-fuzzy", "--no-obsolete", catalog))
        if entries:
            found[catalog] = entries
    return found


def catalog_errors() -> dict[Path, str]:
    """Per catalog that does not compile cleanly, msgfmt's complaint."""
    errors = {}
    for catalog in CATALOGS:
        try:
            run("msgfmt", "--check", "-o", os.devnull, catalog)
        except GettextError as exc:
            errors[catalog] = str(exc)
    return errors


def main() -> int:
    missing = missing_tools()
    if missing:
        print(f"gettext tools missing: {', '.join(missing)} (apt install gettext)", file=sys.stderr)
        return 2
    problems = []
    for catalog, error in catalog_errors().items():
        problems.append(f"{catalog.relative_to(SRC.parents[1])}: {error}")
    for catalog, entries in unfinished_in_catalogs().items():
        problems.append(
            f"{catalog.relative_to(SRC.parents[1])}: {len(entries)} untranslated or fuzzy "
            "entries:\n\n" + "\n\n".join(entries)
        )
    with tempfile.TemporaryDirectory() as workdir:
        missing_de = untranslated_in_code(Path(workdir))
    if missing_de:
        problems.append(
            f"{len(missing_de)} messages of the code have no German translation; add them at "
            f"the end of {MAIN_CATALOG.relative_to(SRC.parents[1])} and compile it:\n\n"
            + "\n\n".join(missing_de)
        )
    for problem in problems:
        print(problem, end="\n\n", file=sys.stderr)
    if not problems:
        print(f"German translations complete ({len(CATALOGS)} catalogs).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
