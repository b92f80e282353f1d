"""Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task

from . import services


@shared_task(name="analytics.score_chunk", acks_late=True)
def analytics_score_chunk(run_id: int, id_lo: int, id_hi: int) -> int:
    """Score and write the customers with ids in ``[id_lo, id_hi]`` for one run."""
    return services.chunk_score_load_and_write(run_id=run_id, id_range=(id_lo, id_hi))


@shared_task(name="analytics.score_nightly")
def analytics_score_nightly(chunk_size: int = 20_000) -> int:
    """Score everyone as of yesterday (the last complete day); scheduled by Celery beat."""
    run = services.scoring_run(as_of=date.today() - timedelta(days=1), chunk_size=chunk_size)
    return run.pk
