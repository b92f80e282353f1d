"""`stammkunde analytics score`: score every customer (nightly by cron or Celery beat).

The command is a run of the job kind ``analytics.score`` (the one job runner):
it records a :class:`~stammkunde.core.jobs.models.Job` started from the command
line, holds the kind's lock, so it never runs beside a scheduled run or one
started on the jobs page, and runs the job in this process (as ``run_here``
does for beat) while a bar follows the job's progress.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from stammkunde.core.jobs import selectors, services
from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.registry import JobKind, kind_get

SCORE_KIND = "analytics.score"


def _busy_message(kind: JobKind) -> str:
    holder = (
        Job.objects.filter(lock_key=kind.lock_key({}), status__in=Job.ACTIVE)
        .select_related("started_by")
        .order_by("-id")
        .first()
    )
    if holder is None:  # finished in between
        return f"{kind.name} was running a moment ago; try again."
    who = holder.started_by.get_username() if holder.started_by else holder.trigger
    since = timezone.localtime(holder.started_at or holder.created_at)
    return (
        f"{kind.name} is running already (job #{holder.pk}, {holder.status} since "
        f"{since:%Y-%m-%d %H:%M:%S}, started by {who}); try again when it has finished."
    )


def _bar_show(bar: tqdm, done: int, total: int | None, message: str) -> None:
    if total and bar.total != total:
        bar.total = total
    bar.n = done
    if message:
        bar.set_postfix_str(message, refresh=False)
    bar.refresh()


class _ProgressFollower(threading.Thread):
    """Shows the running job's progress (the runner's cache entry) on the bar.

    The job runs in the main thread; the cache, unlike the row, is seen outside the
    job's transaction.
    """

    def __init__(self, job_id: int, bar: tqdm, every: float = 0.25) -> None:
        super().__init__(name=f"stammkunde-job-{job_id}-progress", daemon=True)
        self.key = services.progress_cache_key(job_id)
        self.bar = bar
        self.every = every
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            seen = cache.get(self.key)
            if seen:
                _bar_show(self.bar, seen["done"], seen["total"], seen["message"])

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)


class Command(BaseCommand):
    help = "Customer analytics jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        score = sub.add_parser(
            "score",
            help="Score all customers: CLV, classes, churn risk, "
            "phases; store a dated history and raise events. Runs as the job "
            f"{SCORE_KIND} (recorded, and never beside another run of it).",
        )
        score.add_argument(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="score as of the end of this day (default: yesterday, or the "
            "last order day when that is earlier)",
        )
        score.add_argument("--chunk-size", type=int, default=20_000)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        as_of = self._as_of(options["as_of"])
        kind = kind_get(SCORE_KIND)
        # The kind locks as a whole: a scheduled run or one started on the jobs page (no
        # parameters) and this one (a day, a chunk size) must not score at once.
        job = services.job_record(
            kind=kind.name,
            params={"as_of": as_of.isoformat(), "chunk_size": options["chunk_size"]},
            trigger=Job.Trigger.CLI,
        )
        if job is None:
            raise CommandError(_busy_message(kind))
        job = self._execute(job, desc=f"scoring as of {as_of}")
        if job.status != Job.Status.DONE:
            # The runner records "ValueError: too few customers ..."; say what went wrong.
            reason = job.error.removeprefix("ValueError: ")
            raise CommandError(f"{reason} (job #{job.pk} {job.status})")
        self.stdout.write(self._summary(job))

    @staticmethod
    def _execute(job: Job, *, desc: str) -> Job:
        with tqdm(unit="customers", disable=None, desc=desc) as bar:
            follower = _ProgressFollower(job.pk, bar)
            follower.start()
            try:
                job = services.job_execute(job.pk)
            except KeyboardInterrupt:
                # Release the lock now rather than when the watchdog notices.
                Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
                    status=Job.Status.FAILED,
                    error="Interrupted on the command line.",
                    finished_at=timezone.now(),
                )
                services.failed_notice_reset()
                raise
            finally:
                follower.stop()
            # A quick run may end before the follower's first look: show where it ended.
            _bar_show(bar, job.progress_done, job.progress_total, job.progress_message)
            progress = selectors.job_progress(job)
            _bar_show(bar, progress.done, progress.total, "")
        return job

    @staticmethod
    def _summary(job: Job) -> str:
        from stammkunde.analytics.orm import ModelRun

        assert isinstance(job.result, dict), job.result
        run = ModelRun.objects.get(pk=job.result["run"])
        metrics = run.metrics
        quality = (
            f"churn AUC {metrics['auc']:.3f}, Brier {metrics['brier']:.3f}, "
            f"top-decile lift {metrics['top_decile_lift']:.2f} on "
            f"{metrics['n_holdout']} held-out customers"
            if "auc" in metrics
            else "no churn quality (too little history)"
        )
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
        return (
            f"Scored {run.n_customers} customers as of {run.as_of} in "
            f"{seconds:.1f} s (run {run.pk}); {quality}"
        )

    @staticmethod
    def _as_of(raw: str | None) -> date:
        if raw:
            try:
                return datetime.strptime(raw, "%Y-%m-%d").date()
            except ValueError as exc:
                raise CommandError(f"--as-of: {exc}") from exc
        from stammkunde.commerce.models import Order

        last = Order.objects.order_by("-ordered_at").values_list("ordered_at", flat=True).first()
        yesterday = timezone.localdate() - timedelta(days=1)
        if last is None:
            return yesterday
        return min(yesterday, last.date())
