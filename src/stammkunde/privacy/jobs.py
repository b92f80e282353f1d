"""How privacy starts its long work: through the project's one job runner (``core.jobs``)."""

from __future__ import annotations

from typing import Any

from stammkunde.core.jobs.services import job_start


def job_dispatch(kind: str, *, user: Any = None, **params: Any) -> Any:
    """Record a job of ``kind`` and run it once the current transaction commits."""
    return job_start(kind=kind, params=params, user=user)
