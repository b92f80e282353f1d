"""The failed-mails tile of the start page (admins and team leads only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from stammkunde.core.access import User

from .selectors import delivery_problems

DAYS = 7
TOP = 5


def failed_mails_context(user: User) -> dict[str, Any]:
    """Outgoing mail of the last days by delivery state, and the newest failures with reasons."""
    problems = delivery_problems(since=timezone.now() - timedelta(days=DAYS), limit=TOP)
    return {**problems, "days": DAYS, "count": problems["problems"]}
