"""webhook_emit with no subscriber for the event: CPU per call (the loyalty hot path).

Creates a scratch database (a temporary SQLite file, or with ``--pg`` a scratch
PostgreSQL database on ``BENCH_PG``, dropped afterwards), migrates it and calls
``webhook_emit(event="points.changed", ...)`` ``--calls`` times inside one
transaction in three set-ups: no subscription at all, one inactive
subscription for the event, and three active subscriptions for other events.
Prints µs of CPU (process time) and wall time per call and the queries per call.

Usage: python bench/bench_webhook_emit.py [--calls 5000] [--pg]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def measure(calls: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from stammkunde.dataio.models import WebhookSubscription
    from stammkunde.dataio.services.webhooks import webhook_emit, webhook_subscribers

    call_command("migrate", verbosity=0)
    payload = {"items": [{"account_id": 1, "entry_id": 2, "kind": "earn", "points": 10}]}

    def run(label: str) -> None:
        with transaction.atomic():
            for _ in range(200):  # warm-up
                webhook_emit(event="points.changed", payload=payload)
            with CaptureQueriesContext(connection) as queries:
                webhook_emit(event="points.changed", payload=payload)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                webhook_emit(event="points.changed", payload=payload)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            transaction.set_rollback(True)
        print(
            f"{label:<40} {cpu / calls * 1e6:7.1f} µs CPU  {wall / calls * 1e6:7.1f} µs wall"
            f"  {len(queries)} quer{'y' if len(queries) == 1 else 'ies'}/call"
        )

    print(f"{connection.vendor}, {calls} calls each")
    run("no subscription")
    WebhookSubscription.objects.create(
        name="off", url="http://127.0.0.1:9/", events=["points.changed"], active=False
    )
    run("one inactive subscription")
    for n in range(3):
        WebhookSubscription.objects.create(
            name=f"crm {n}",
            url="http://127.0.0.1:9/",
            events=["customer.created", "order.imported"],
        )
    run("three active subscriptions, other events")
    assert len(webhook_subscribers("customer.created")) == 3  # the event lists were read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--pg", action="store_true")
    args = parser.parse_args()
    if not args.pg:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            measure(args.calls)
        return
    import psycopg

    name = f"bench_webhooks_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        os.environ["DATABASE_URL"] = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        measure(args.calls)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    sys.exit(main())
