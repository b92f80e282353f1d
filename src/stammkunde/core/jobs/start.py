"""The failed-jobs tile of the start page (admins and team leads)."""

from __future__ import annotations

from typing import Any

from stammkunde.core.access import User
from stammkunde.core.roles import ADMIN, has_role

from .selectors import failed_unacknowledged_count, jobs_failed_open, kind_label

TOP = 5


def failed_jobs_context(user: User) -> dict[str, Any]:
    """Failed jobs nobody acknowledged yet; the jobs page (admins only) lists all of them."""
    rows = list(jobs_failed_open().order_by("-id")[:TOP])
    return {
        "count": failed_unacknowledged_count(),
        "rows": [{"job": j, "label": kind_label(j.kind)} for j in rows],
        "can_open": has_role(user, ADMIN),
    }
