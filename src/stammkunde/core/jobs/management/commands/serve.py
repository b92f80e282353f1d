"""`stammkunde serve`: the development server with the in-process jobs and schedule.

What ``make run`` starts: without a broker the jobs run in threads of this
process and the schedule ticks here too, so the demo is alive (SLA warnings,
mail polling, playbooks) with no second command.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from stammkunde.core.jobs.runner import run_mode
from stammkunde.core.jobs.schedule import in_process_scheduler_start


class Command(BaseCommand):
    help = "Run the development server with the in-process job runner and schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        # With the autoreloader the server runs in a child process (RUN_MAIN=true);
        # the schedule belongs there, not in the watching parent.
        if options["noreload"] or os.environ.get("RUN_MAIN") == "true":
            if in_process_scheduler_start() is not None:
                self.stdout.write("Jobs run in this process; the schedule ticks every 5 s.")
            else:
                self.stdout.write(f"Jobs go to the Celery workers ({run_mode()}); run beat.")
        call_command("runserver", options["addrport"], use_reloader=not options["noreload"])
