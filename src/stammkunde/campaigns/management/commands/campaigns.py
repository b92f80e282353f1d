"""`stammkunde campaigns evaluate|dispatch|send-mail`: the campaign jobs on the command line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.campaigns import services
from stammkunde.campaigns.models import Campaign


class Command(BaseCommand):
    help = "Campaign jobs: evaluate, dispatch due sends and triggers, send queued mail."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        evaluate = sub.add_parser(
            "evaluate",
            help="Compare treatment and control (response, repurchase, revenue, margin, "
            "retention), ROI and advice. Without --campaign: every campaign whose horizon "
            "has passed and has no final evaluation yet.",
        )
        evaluate.add_argument("--campaign", type=int, help="evaluate this campaign id now")
        evaluate.add_argument("--as-of", metavar="YYYY-MM-DD", help="observe up to this day")
        sub.add_parser("dispatch", help="Run due scheduled sends and active triggers.")
        sub.add_parser("send-mail", help="Send one throttled batch of queued campaign mail.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "dispatch":
            done = services.campaigns_dispatch_due()
            self.stdout.write(f"Dispatched {len(done)} campaign(s): {done}")
            return
        if action == "send-mail":
            counts = services.email_queue_send()
            self.stdout.write(", ".join(f"{k} {v}" for k, v in counts.items()))
            return
        as_of = None
        if options["as_of"]:
            try:
                as_of = datetime.strptime(options["as_of"], "%Y-%m-%d").date()
            except ValueError as exc:
                raise CommandError(f"--as-of: {exc}") from exc
        if options["campaign"] is None:
            evaluated = services.campaigns_evaluate_due(today=as_of)
            self.stdout.write(f"Evaluated {len(evaluated)} campaign(s) whose horizon has passed.")
            return
        campaign = Campaign.objects.filter(pk=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']}.")
        evaluation = services.campaign_evaluate(campaign=campaign, as_of=as_of)
        s = evaluation.summary
        for name, e in s.get("effects", {}).items():
            self.stdout.write(
                f"{name:>10}: effect {_f(e['estimate'])} "
                f"[{_f(e['ci_low'])}, {_f(e['ci_high'])}] "
                f"(treatment {_f(e['treatment_mean'])}, control {_f(e['control_mean'])})"
            )
        self.stdout.write(
            f"incremental margin {_f(s.get('incremental_margin'))} EUR, cost "
            f"{_f(s.get('cost'))} EUR, ROI {_f(s.get('roi'))}, Qini {_f(evaluation.qini)}"
        )
        self.stdout.write(f"recommendation: {evaluation.recommendation} ({s.get('reason', '')})")


def _f(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"
