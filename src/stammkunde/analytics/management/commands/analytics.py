"""`stammkunde analytics score`: score every customer (nightly by cron or Celery beat)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from stammkunde.analytics.services import scoring_run


class Command(BaseCommand):
    help = "Customer analytics jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        score = sub.add_parser(
            "score",
            help="Score all customers: CLV, classes, churn risk, "
            "phases; store a dated history and raise events.",
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
        with tqdm(unit="customers", disable=None, desc=f"scoring as of {as_of}") as bar:
            try:
                run = scoring_run(
                    as_of=as_of, chunk_size=options["chunk_size"], on_progress=bar.update
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        metrics = run.metrics
        quality = (
            f"churn AUC {metrics['auc']:.3f}, Brier {metrics['brier']:.3f}, "
            f"top-decile lift {metrics['top_decile_lift']:.2f} on "
            f"{metrics['n_holdout']} held-out customers"
            if "auc" in metrics
            else "no churn quality (too little history)"
        )
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
        self.stdout.write(
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
