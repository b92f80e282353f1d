"""`stammkunde privacy export|erase|retention`: the DSGVO duties from the console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Customer
from stammkunde.privacy import services


def _customer(raw: str) -> Customer:
    """Find a customer by id or number (K0000042)."""
    found = (
        Customer.objects.filter(pk=int(raw)).first()
        if raw.isdigit()
        else Customer.objects.filter(number=raw.upper()).first()
    )
    if found is None:
        raise CommandError(f"No customer with id or number {raw!r}.")
    return found


class Command(BaseCommand):
    help = "Data subject rights (DSGVO): export, erasure, retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write a customer's data as JSON and PDF.")
        export.add_argument("--customer", required=True, help="customer id or number")
        export.add_argument("--out", required=True, help="directory for the two files")
        export.add_argument("--language", choices=["de", "en"], default="de")
        erase = sub.add_parser("erase", help="Erase a customer's personal data everywhere.")
        erase.add_argument("--customer", required=True, help="customer id or number")
        erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
        retention = sub.add_parser("retention", help="Apply the retention periods.")
        retention.add_argument("--dry-run", action="store_true", help="only list what would go")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _export(self, options: dict[str, Any]) -> None:
        customer = _customer(options["customer"])
        files = services.customer_export_files(
            customer=customer, out=Path(options["out"]), language=options["language"]
        )
        self.stdout.write(json.dumps({"customer": customer.number, **files}))

    def _erase(self, options: dict[str, Any]) -> None:
        customer = _customer(options["customer"])
        if not options["yes"]:
            raise CommandError("Erasure cannot be undone: add --yes to confirm.")
        result = services.customer_erase(actor=None, customer=customer)
        self.stdout.write(json.dumps(result, sort_keys=True))

    def _retention(self, options: dict[str, Any]) -> None:
        dry = options["dry_run"]
        counts = services.retention_apply(dry_run=dry)
        verb = "would go" if dry else "removed"
        for kind, n in counts.items():
            self.stdout.write(f"{kind}: {n} {verb}")
