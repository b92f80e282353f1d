"""Data tools tests: jobs (core.jobs) run inline, files go to a temporary MEDIA_ROOT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.services.imports import import_file

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(autouse=True)
def _inline_jobs(settings: Any, tmp_path: Path) -> None:
    settings.JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    """Each test starts in LANGUAGE_CODE (German), whatever a request of the test before
    activated (LocaleMiddleware leaves its language active in the thread)."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def shop(db: Any) -> None:
    """Products and customers of the example files."""
    for kind, name in [("products", "produkte_excel.csv"), ("customers", "kunden.xlsx")]:
        result = import_file(kind=kind, path=EXAMPLES / name, mode=ImportJob.Mode.GOOD_ROWS)
        assert result.failed == 0, result.errors


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
