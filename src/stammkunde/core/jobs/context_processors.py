"""The failure notice: admins see unacknowledged failed jobs on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from stammkunde.core.roles import ADMIN, has_role


def failed_jobs(request: HttpRequest) -> dict[str, Any]:
    """``failed_jobs_count`` for admins (cached briefly; failures and acknowledgements reset it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not has_role(user, ADMIN):
        return {"failed_jobs_count": 0}
    from .selectors import failed_notice_count

    return {"failed_jobs_count": failed_notice_count()}
