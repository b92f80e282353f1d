"""DSGVO duties at scale on PostgreSQL: export and erasure of a heavy customer, read-audit cost.

Creates (once) a database ``stammkunde_bench_privacy``; every run adds one new
customer with 10,000 tickets (two messages each) and 50,000 timeline entries,
bulk-loaded with COPY, then

1. exports them (JSON + PDF, the CLI's ``customer_export_files``) and
2. erases them (``customer_erase``, one transaction),

printing the seconds of each (targets: under 60 s each), and finally renders
one ticket page many times with the read audit on and off (interleaved, so
that load from other processes hits both alike) and prints p50/p95 and the
overhead (target: under 5 % on p95; the comparison is ``_read_audit.py``, shared
with ``bench_service_desk.py --read-audit``).

    .venv/bin/python bench/bench_privacy.py [--tickets 10000] [--timeline 50000] [--rounds 300]

Needs PostgreSQL on 127.0.0.1:5432 (``BENCH_DATABASE_URL`` to change it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _read_audit import read_audit_compare, read_audit_print

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "stammkunde_bench_privacy"


def _ensure_database() -> None:
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _setup_django() -> None:
    os.environ["DATABASE_URL"] = f"{BASE_URL}/{DB_NAME}"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _heavy_customer(tickets: int, timeline: int) -> Any:
    """One customer with ``tickets`` tickets (2 messages each) and ``timeline`` entries."""
    from django.db import connection, transaction

    from stammkunde.core.db import bulk_insert, sequences_reset
    from stammkunde.customers.models import Interaction
    from stammkunde.customers.services import customer_create
    from stammkunde.service.models import Queue, Ticket

    queue = Queue.objects.get_or_create(name="Kundenservice")[0]
    tag = f"{time.time_ns()}"
    with transaction.atomic():
        customer = customer_create(
            actor=None,
            first_name="Vielschreiberin",
            last_name=f"Bench{tag}",
            emails=[f"viel{tag}@example.de"],
            phones=[f"+49170{tag[-7:]}"],  # a fresh one: the last run's is suppressed
            addresses=[{"street": "Langer Weg 1", "postal_code": "10115", "city": "Berlin"}],
        )
        first = (Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        end = datetime(2026, 11, 1, tzinfo=UTC)
        bulk_insert(
            Ticket,
            [
                "id",
                "number",
                "subject",
                "customer",
                "sender_email",
                "type",
                "channel",
                "priority",
                "queue",
                "status",
                "created_at",
                "updated_at",
                "closed_at",
            ],
            (
                (
                    first + i,
                    f"P{tag[-8:]}-{i:06d}",
                    f"Anliegen von Frau Bench{tag} Nr. {i}",
                    customer.pk,
                    "",
                    "inquiry",
                    "email",
                    "normal",
                    queue.pk,
                    "closed",
                    end - timedelta(hours=i),
                    end - timedelta(hours=i),
                    end - timedelta(hours=i) + timedelta(hours=3),
                )
                for i in range(tickets)
            ),
        )
        sequences_reset(Ticket)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO service_message (ticket_id, kind, direction, body, channel, "
                "created_at) SELECT id, 'public', 'in', 'Guten Tag, hier Frau ' || subject, "
                "channel, created_at FROM service_ticket WHERE customer_id = %s UNION ALL "
                "SELECT id, 'public', 'out', 'Danke, wir kümmern uns.', channel, created_at "
                "+ interval '2 hours' FROM service_ticket WHERE customer_id = %s",
                [customer.pk, customer.pk],
            )
        bulk_insert(
            Interaction,
            ["customer", "occurred_at", "channel", "direction", "kind", "summary"],
            (
                (customer.pk, end - timedelta(minutes=i), "email", "in", "mail", f"Mail {i}")
                for i in range(timeline)
            ),
        )
    return customer


def _read_audit_overhead(rounds: int) -> dict[str, float]:
    """Ticket page p50/p95 with the read audit and without, on this bench's newest tickets."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from stammkunde.core.services import user_create
    from stammkunde.service.models import Ticket

    agent = get_user_model().objects.filter(username="bench.privacy.agent").first() or (
        user_create(username="bench.privacy.agent", password=None, roles=["agent"])
    )
    client = Client()
    client.force_login(agent)
    ids = list(Ticket.objects.order_by("-id").values_list("id", flat=True)[:50])
    return read_audit_compare(client, [f"/service/tickets/{i}/" for i in ids], rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--timeline", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument(
        "--audit-only", action="store_true", help="only the ticket-page read-audit comparison"
    )
    args = parser.parse_args(argv)
    _ensure_database()
    _setup_django()
    if args.audit_only:
        return _print_audit(args.rounds)
    from stammkunde.privacy.services import customer_erase, customer_export_files

    t0 = time.perf_counter()
    customer = _heavy_customer(args.tickets, args.timeline)
    print(
        f"load: {args.tickets} tickets, {2 * args.tickets} messages, "
        f"{args.timeline} timeline entries in {time.perf_counter() - t0:.1f} s"
    )
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        files = customer_export_files(customer=customer, out=Path(out))
        export_s = time.perf_counter() - t0
        sizes = {k: Path(v).stat().st_size / 1e6 for k, v in files.items()}
    print(
        f"export: {export_s:.1f} s (target < 60 s); JSON {sizes['json']:.1f} MB, "
        f"PDF {sizes['pdf']:.1f} MB"
    )
    t0 = time.perf_counter()
    result = customer_erase(actor=None, customer=customer)
    erase_s = time.perf_counter() - t0
    print(
        f"erasure: {erase_s:.1f} s (target < 60 s); tickets blanked "
        f"{result['erased']['tickets']}, timeline {result['erased']['timeline']}"
    )
    audit_ok = _print_audit(args.rounds) == 0
    return 0 if export_s < 60 and erase_s < 60 and audit_ok else 1


def _print_audit(rounds: int) -> int:
    return read_audit_print(_read_audit_overhead(rounds), rounds)


if __name__ == "__main__":
    sys.exit(main())
