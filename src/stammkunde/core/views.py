from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)


BROKER_TIMEOUT_SECONDS = 1.0


def _broker_state() -> str:
    """``ok``, ``down`` or ``not used`` (the embedded default runs jobs in-process).

    One connection attempt with a short timeout and no retry pause, so a
    broker that is down costs the health check about a second at most.
    """
    if not settings.CELERY_BROKER_URL:
        return "not used"
    from stammkunde.celery import app

    try:
        with app.connection_for_write(
            settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS
        ) as conn:
            conn.ensure_connection(
                max_retries=1,
                interval_start=0,
                interval_step=0,
                interval_max=0,
                timeout=BROKER_TIMEOUT_SECONDS,
            )
    except Exception as exc:  # every transport error means "down"
        log.warning("health: broker not reachable: %s", exc)
        return "down"
    return "ok"


def _schedule_state() -> dict[str, dict[str, Any]]:
    """Per scheduled kind: its last success and whether it is overdue (no personal data)."""
    from stammkunde.core.jobs.selectors import schedule_overview

    state: dict[str, dict[str, Any]] = {}
    for row in schedule_overview():
        success = row.last_success.finished_at if row.last_success else None
        entry: dict[str, Any] = {
            "last_success": success.isoformat() if success else None,
            "overdue": row.overdue,
        }
        if not row.task.enabled:
            entry["enabled"] = False
        state[row.kind.name] = entry
    return state


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness of the database, the broker and the schedule.

    503 only when the database does not answer (nothing works then). A broker
    that is down or a scheduled job that is overdue gives 200 with status
    ``degraded``: pages still work, background work does not. No cache: every
    call asks; the schedule costs a fixed number of queries, not one per kind.
    """
    broker = _broker_state()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return JsonResponse(
            {"status": "error", "database": str(exc)[:200], "broker": broker}, status=503
        )
    schedule = _schedule_state()
    overdue = sorted(name for name, entry in schedule.items() if entry["overdue"])
    degraded = broker == "down" or bool(overdue)
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ok",
            "database": "ok",
            "broker": broker,
            "overdue": overdue,
            "schedule": schedule,
        }
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The start page: what to do today, as tiles from each app for the user's roles.

    The tiles come from ``core.navigation`` (apps register them), so the core
    imports no higher app. A user without any tile (no role) gets the hint only.
    """
    from .navigation import start_tiles_for

    return render(request, "core/start.html", {"tiles": start_tiles_for(request.user)})
