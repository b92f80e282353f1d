"""`stammkunde staffing erlang …`: staffing for one interval, printed as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.workforce.cli_erlang import erlang_command
from stammkunde.workforce.erlang import StaffingInputError


class Command(BaseCommand):
    help = "Workforce staffing calculations (Erlang C) for planners and scripts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="calculation", required=True)
        erlang = sub.add_parser(
            "erlang",
            help="Agents for one interval: X %% answered within Y seconds.",
        )
        erlang.add_argument("--calls", type=float, required=True)
        erlang.add_argument("--interval-s", type=float, required=True)
        erlang.add_argument("--aht-s", type=float, required=True)
        erlang.add_argument("--target-answer-s", type=float, required=True)
        erlang.add_argument("--target-sl", type=float, required=True)
        erlang.add_argument("--shrinkage", type=float, default=0.0)
        erlang.add_argument("--max-occupancy", type=float, default=None)
        erlang.add_argument("--agents", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = erlang_command(
                calls=options["calls"],
                interval_s=options["interval_s"],
                aht_s=options["aht_s"],
                target_answer_s=options["target_answer_s"],
                target_sl=options["target_sl"],
                shrinkage=options["shrinkage"],
                max_occupancy=options["max_occupancy"],
                agents=options["agents"],
            )
        except StaffingInputError as exc:
            raise CommandError(f"invalid input: {exc}") from exc
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        if result.get("stable") is False:
            self.stderr.write(result["message"])
