from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.service.sla import sla_escalate


class Command(BaseCommand):
    help = "SLA jobs. 'escalate': flag breaches, warn before them, escalate to team leads."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        escalate = sub.add_parser("escalate", help="run the escalation job once")
        escalate.add_argument("--now", help="ISO time with offset (for tests and replays)")
        escalate.add_argument("--batch", type=int, default=500)

    def handle(self, *args: Any, **opts: Any) -> None:
        now = None
        if opts.get("now"):
            try:
                now = datetime.fromisoformat(opts["now"])
            except ValueError as exc:
                raise CommandError(f"--now: {exc}") from exc
            if now.tzinfo is None:
                raise CommandError("--now needs a UTC offset, e.g. 2026-03-10T09:00+01:00")
        if opts["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        result = sla_escalate(now=now, batch=opts["batch"])
        self.stdout.write(f"SLA escalation: {result.warned} warned, {result.breached} breached")
