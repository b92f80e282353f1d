"""``stammkunde webhooks deliver``: send due webhook deliveries (retries with back-off)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from stammkunde.dataio.services.webhooks import webhook_deliver_due


class Command(BaseCommand):
    help = "Send the webhook deliveries that are due; --loop keeps running (every 10 s)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["deliver"])
        parser.add_argument("--loop", action="store_true", help="keep sending every --interval s")
        parser.add_argument("--interval", type=float, default=10.0)

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            count = webhook_deliver_due()
            self.stdout.write(f"{count} deliveries attempted")
            if not opts["loop"]:
                return
            time.sleep(opts["interval"])
