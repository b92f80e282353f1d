"""``stammkunde loyalty expire|tiers [--date YYYY-MM-DD]``: the nightly loyalty jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.loyalty import services


class Command(BaseCommand):
    help = "Run a loyalty job: expire points, or review tiers whose review date has come."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", choices=["expire", "tiers"])
        parser.add_argument("--date", help="run as of this day (YYYY-MM-DD), default today")

    def handle(self, *args: Any, **opts: Any) -> None:
        today = None
        if opts["date"]:
            try:
                today = dt.date.fromisoformat(opts["date"])
            except ValueError as exc:
                raise CommandError(f"--date: {exc}") from exc
        if opts["job"] == "expire":
            points = services.points_expire(today=today)
            self.stdout.write(f"{points} points expired")
        else:
            accounts = services.tiers_review(today=today)
            self.stdout.write(f"{accounts} accounts reviewed")
