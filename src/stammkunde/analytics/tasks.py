"""Job kinds of the analytics app and the Celery task that scores one chunk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stammkunde.core.jobs.registry import Cron, JobContext, job_kind

from . import services


@shared_task(name=services.SCORE_CHUNK_TASK, acks_late=True)
def analytics_score_chunk(run_id: int, id_lo: int, id_hi: int) -> int:
    """Score and write the customers with ids in ``[id_lo, id_hi]`` for one run, unless
    another process (the job that sent it) has claimed the chunk; return rows written."""
    if not services.chunk_claim(run_id, (id_lo, id_hi)):
        return 0
    return services.chunk_score_load_and_write(run_id=run_id, id_range=(id_lo, id_hi))


@job_kind(
    "analytics.score",
    label=_("Customer scoring"),
    description=_("Scores every customer: CLV, value class, churn risk, lifecycle phase."),
    schedule=Cron(hour="2", minute="30"),
    timeout=timedelta(hours=1),
    startable=True,
    lock_whole_kind=True,  # two scorings, of any day, would overwrite each other's classes
)
def analytics_score(
    ctx: JobContext, as_of: str | None = None, chunk_size: int = 20_000
) -> dict[str, Any]:
    """Score everyone as of ``as_of`` (default yesterday, the last complete day).

    With a broker the chunks run as parallel Celery tasks on the workers.
    """
    from .orm import ModelRun

    day = date.fromisoformat(as_of) if as_of else timezone.localdate() - timedelta(days=1)
    ctx.progress(message=str(_("fitting the models")))

    def advance(n: int) -> None:
        if ctx.total is None:  # the run row knows the count once the models are fitted
            total = ModelRun.objects.order_by("-pk").values_list("n_customers", flat=True).first()
            ctx.progress(advance=n, total=total, message=str(_("scoring customers")))
        else:
            ctx.progress(advance=n)

    run = services.scoring_run(as_of=day, chunk_size=chunk_size, on_progress=advance)
    return {
        "run": run.pk,
        "as_of": run.as_of.isoformat(),
        "customers": run.n_customers,
        "auc": run.auc,
    }
