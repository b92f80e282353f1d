"""``stammkunde loyalty expire|tiers|birthdays [--date YYYY-MM-DD]``: the daily jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.loyalty import services


class Command(BaseCommand):
    help = "Run a loyalty job: expire points, review tiers, award birthday bonuses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", choices=["expire", "tiers", "birthdays"])
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
        elif opts["job"] == "birthdays":
            members = services.birthday_bonuses_award(today=today)
            self.stdout.write(f"{members} birthday bonuses awarded")
        else:
            accounts = services.tiers_review(today=today)
            self.stdout.write(f"{accounts} accounts reviewed")
