"""`stammkunde workforce import-volumes FILE.csv` and `import-roster FILE.csv`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.core.errors import ApplicationError
from stammkunde.workforce import services


class Command(BaseCommand):
    help = "Workforce data: import contact volumes or a roster from CSV (all rows or none)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        volumes = sub.add_parser("import-volumes", help="Contact history per queue and interval.")
        volumes.add_argument("file", metavar="FILE.csv")
        roster = sub.add_parser("import-roster", help="Planned agents per queue and interval.")
        roster.add_argument("file", metavar="FILE.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        service = (
            services.contact_volumes_import
            if options["action"] == "import-volumes"
            else services.roster_import
        )
        try:
            result = service(actor=None, content=content)
        except ApplicationError as exc:
            lines = [
                f"  {where}: {'; '.join(problems)}" for where, problems in exc.field_errors.items()
            ]
            raise CommandError("\n".join([f"{path}: nothing imported.", *lines])) from exc
        self.stdout.write(f"{result.rows} rows imported from {path} ({result.replaced} replaced).")
