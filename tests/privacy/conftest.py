"""Privacy tests keep export files in a temporary folder (jobs run inline: root conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _privacy_settings(settings: Any, tmp_path: Path) -> None:
    settings.PRIVACY_EXPORT_DIR = str(tmp_path / "privacy")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHANNELS_SEND_IMMEDIATELY = False
