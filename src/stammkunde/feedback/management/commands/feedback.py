"""`stammkunde feedback run-triggers`: invite customers by the survey triggers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.feedback.services import triggers_run


class Command(BaseCommand):
    help = "Feedback jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser(
            "run-triggers",
            help="Evaluate every active survey trigger and email the invitations.",
        )
        run.add_argument("--now", metavar="YYYY-MM-DDTHH:MM", help="evaluate as of (UTC)")
        run.add_argument("--limit", type=int, help="send at most this many invitations")

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options.get("now"):
            try:
                now = datetime.fromisoformat(options["now"]).replace(tzinfo=UTC)
            except ValueError as exc:
                raise CommandError(f"--now: {exc}") from exc
        if options.get("limit") is not None and options["limit"] < 0:
            raise CommandError("--limit must not be negative")
        counts = triggers_run(now=now, limit=options.get("limit"))
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "sent")
        self.stdout.write(
            f"Sent {counts['sent']} invitations" + (f"; not sent: {skipped}" if skipped else "")
        )
