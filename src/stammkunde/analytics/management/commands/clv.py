"""`stammkunde clv fit`: fit BG/NBD (and Gamma-Gamma) on a CSV and print JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.analytics.models.bgnbd import ConvergenceError
from stammkunde.analytics.models.cli_fit import (
    InputError,
    clv_fit_from_summary,
    clv_fit_from_transactions,
)


class Command(BaseCommand):
    help = "Customer lifetime value models for analysts (BG/NBD, Gamma-Gamma)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fit = sub.add_parser("fit", help="Fit on a summary or a transactions CSV; print JSON.")
        source = fit.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--summary", metavar="FILE.csv", help="columns frequency,recency,T[,monetary_value]"
        )
        source.add_argument(
            "--transactions",
            metavar="FILE.csv",
            help="one row per purchase; name the columns below",
        )
        fit.add_argument("--customer-col", metavar="C")
        fit.add_argument("--date-col", metavar="D")
        fit.add_argument("--amount-col", metavar="A")
        fit.add_argument("--calibration-end", metavar="YYYY-MM-DD")
        fit.add_argument(
            "--freq",
            choices=["D", "W"],
            default="D",
            help="time unit of the fit: days (default) or weeks",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["summary"]:
                if options["customer_col"] or options["date_col"]:
                    raise CommandError("--customer-col/--date-col belong to --transactions")
                result = clv_fit_from_summary(options["summary"])
            else:
                if not options["customer_col"] or not options["date_col"]:
                    raise CommandError("--transactions needs --customer-col and --date-col")
                result = clv_fit_from_transactions(
                    options["transactions"],
                    customer_col=options["customer_col"],
                    date_col=options["date_col"],
                    amount_col=options["amount_col"],
                    calibration_end=options["calibration_end"],
                    freq=options["freq"],
                )
        except (InputError, ConvergenceError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, indent=2))
