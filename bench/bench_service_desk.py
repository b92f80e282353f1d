"""Service desk at scale on PostgreSQL: inbox and ticket page p95 with 1M tickets.

Creates (once) a database ``stammkunde_bench_service`` with 100k customers and
1M tickets (2 messages each), bulk-loaded with COPY, then renders the inbox
views and ticket pages through the full Django stack (test client, templates)
as an agent and as a partner agent, and prints p50/p95 and query counts.

    .venv/bin/python bench/bench_service_desk.py [--customers 100000] [--tickets 1000000]
    .venv/bin/python bench/bench_service_desk.py --read-audit [--rounds 100]

``--read-audit``: after loading, only the DSGVO read-audit cost on the ticket page:
the same ticket URLs and rounds as the "ticket page" case, as the agent, with the audit
on and off interleaved (``_read_audit.py``, shared with ``bench_privacy.py``); prints
p50/p95 of both and the p95 overhead; exit code 1 if it is 5 % or more.

Needs PostgreSQL on 127.0.0.1:5432 (``BENCH_DATABASE_URL`` to change it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from _read_audit import read_audit_compare, read_audit_print

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "stammkunde_bench_service"


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


def _load(customers: int, tickets: int, seed: int) -> dict[str, object]:
    """Bulk-load customers, queues, agents and tickets unless they are there already."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from stammkunde.core.db import bulk_insert, sequences_reset
    from stammkunde.core.models import ServicePartner
    from stammkunde.core.services import user_create
    from stammkunde.customers.models import Customer
    from stammkunde.service.models import Queue, Ticket

    partner, _ = ServicePartner.objects.get_or_create(name="CallPro GmbH")
    agents = []
    for i in range(20):
        user = get_user_model().objects.filter(username=f"bench.agent{i}").first()
        agents.append(
            user or user_create(username=f"bench.agent{i}", password=None, roles=["agent"])
        )
    partner_agent = get_user_model().objects.filter(
        username="bench.partner"
    ).first() or user_create(
        username="bench.partner", password=None, roles=["partner_agent"], partner=partner
    )
    queues = [
        Queue.objects.get_or_create(name=n)[0] for n in ("Kundenservice", "Retouren", "Werkstatt")
    ]
    queues.append(
        Queue.objects.get_or_create(name="CallPro Hotline", defaults={"partner": partner})[0]
    )
    for q in queues[:3]:
        q.members.add(*agents)
    have_customers = Customer.objects.count()
    have_tickets = Ticket.objects.count()
    rng = np.random.default_rng(seed)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    started = time.perf_counter()
    with transaction.atomic():
        if have_customers < customers:
            n = customers - have_customers
            first = have_customers + 1
            rows = (
                (
                    first + i,
                    f"B{first + i:08d}",
                    "person",
                    "Erika",
                    f"Muster{first + i}",
                    f"muster{first + i} erika",
                    "de",
                    "email",
                    "ABC"[i % 3],
                    end - timedelta(days=int(d)),
                    1,
                )
                for i, d in enumerate(rng.integers(0, 2000, n))
            )
            bulk_insert(
                Customer,
                [
                    "id",
                    "number",
                    "kind",
                    "first_name",
                    "last_name",
                    "search_name",
                    "preferred_language",
                    "preferred_channel",
                    "value_class",
                    "created_at",
                    "version",
                ],
                rows,
            )
            sequences_reset(Customer)
        if have_tickets < tickets:
            n = tickets - have_tickets
            first = have_tickets + 1
            origin = np.datetime64((end - timedelta(days=730)).replace(tzinfo=None), "s")
            created = origin + np.sort(rng.integers(0, 730 * 86400, n)).astype("timedelta64[s]")
            status = rng.choice(
                ["closed", "solved", "new", "open", "waiting_customer"],
                n,
                p=[0.85, 0.05, 0.04, 0.04, 0.02],
            )
            customer_ids = rng.integers(1, customers + 1, n)
            queue_idx = rng.integers(0, 4, n)
            agent_idx = rng.integers(0, len(agents), n)
            unassigned = rng.random(n) < 0.1
            due = created + np.timedelta64(2, "D")
            rows_t = []
            for i in range(n):
                c = created[i].astype(datetime).replace(tzinfo=UTC)
                st = str(status[i])
                is_open = st not in ("closed", "solved")
                q = queues[int(queue_idx[i])]
                assignee = (
                    None
                    if unassigned[i]
                    else (partner_agent.pk if q.partner_id else agents[int(agent_idx[i])].pk)
                )
                d = due[i].astype(datetime).replace(tzinfo=UTC)
                rows_t.append(
                    (
                        first + i,
                        f"{c.year}-{first + i:07d}",
                        f"Anliegen {first + i}",
                        int(customer_ids[i]),
                        "complaint" if i % 3 else "inquiry",
                        "email",
                        "normal",
                        q.pk,
                        assignee,
                        st,
                        c,
                        c,
                        d,
                        d + timedelta(days=3),
                        d if is_open else None,
                        None if is_open else c + timedelta(hours=5),
                        None if is_open else True,
                    )
                )
            bulk_insert(
                Ticket,
                [
                    "id",
                    "number",
                    "subject",
                    "customer",
                    "type",
                    "channel",
                    "priority",
                    "queue",
                    "assignee",
                    "status",
                    "created_at",
                    "updated_at",
                    "first_response_due",
                    "resolution_due",
                    "sla_due",
                    "solved_at",
                    "first_contact_resolved",
                ],
                rows_t,
            )
            sequences_reset(Ticket)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO service_message (ticket_id, kind, direction, body, channel, "
                    "created_at) SELECT id, 'public', 'in', 'Guten Tag, ich habe ein Problem "
                    "mit meiner Bestellung.', channel, created_at FROM service_ticket "
                    "WHERE id >= %s UNION ALL SELECT id, 'public', 'out', 'Danke, wir kümmern "
                    "uns.', channel, created_at + interval '2 hours' FROM service_ticket "
                    "WHERE id >= %s",
                    [first, first],
                )
    if have_tickets < tickets or have_customers < customers:
        with connection.cursor() as cursor:
            # what autovacuum does after a bulk load: visibility map for index-only scans
            cursor.execute("VACUUM ANALYZE service_ticket")
            cursor.execute("ANALYZE")
    return {
        "agents": agents,
        "partner_agent": partner_agent,
        "load_s": time.perf_counter() - started,
    }


def _measure(client: object, urls: list[str], rounds: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for i in range(rounds):
        url = urls[i % len(urls)]
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = max(queries, len(ctx.captured_queries))
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], queries


def _server_ms(client: object, url: str) -> float:
    """Return the PostgreSQL execution time of all queries of one request (EXPLAIN ANALYZE).

    Unlike wall-clock times this does not grow when other jobs share the CPUs.
    """
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)  # type: ignore[attr-defined]
    total = 0.0
    for query in ctx.captured_queries:
        sql = re.sub(r'^DECLARE "[^"]+" NO SCROLL CURSOR WITH HOLD FOR ', "", query["sql"])
        if not sql.startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        total += sum(
            float(line.split(":")[1].split()[0])
            for line in plan
            if line.startswith(("Planning Time", "Execution Time"))
        )
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--read-audit",
        action="store_true",
        help="only the ticket page with the read audit on and off (p95 overhead < 5 %%)",
    )
    args = parser.parse_args()
    _ensure_database()
    _setup_django()
    from django.test import Client

    from stammkunde.service.models import Ticket

    env = _load(args.customers, args.tickets, args.seed)
    print(f"data: {Ticket.objects.count():,} tickets; load {env['load_s']:.1f} s")
    agent = env["agents"][0]  # type: ignore[index]
    client = Client()
    client.force_login(agent)
    rng = np.random.default_rng(args.seed + 1)
    top = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 1
    ticket_urls = [f"/service/tickets/{int(i)}/" for i in rng.integers(1, top + 1, 50)]
    if args.read_audit:
        client.get(ticket_urls[0])  # warm caches, as for the cases below
        return read_audit_print(read_audit_compare(client, ticket_urls, args.rounds), args.rounds)
    cases = [
        ("inbox mine", ["/service/?view=mine"]),
        ("inbox my queues", ["/service/?view=my_queues"]),
        ("inbox unassigned", ["/service/?view=unassigned"]),
        ("inbox breaching soon", ["/service/?view=breaching"]),
        ("inbox waiting", ["/service/?view=waiting"]),
        ("inbox all open, page 3", ["/service/?view=open&after=" + str(top - 5000)]),
        ("inbox search by number", [f"/service/?view=all&q=2026-{top - 17:07d}"]),
        ("inbox 200 rows", ["/service/?view=open&size=200"]),
        ("ticket page", ticket_urls),
    ]
    print(f"{'case':<28}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'SQL ms':>9}")
    for name, urls in cases:
        client.get(urls[0])  # warm caches
        p50, p95, queries = _measure(client, urls, args.rounds)
        server = _server_ms(client, urls[0])
        print(f"{name:<28}{p50:>9.1f}{p95:>9.1f}{queries:>9}{server:>9.1f}")
    partner = Client()
    partner.force_login(env["partner_agent"])  # type: ignore[arg-type]
    p50, p95, queries = _measure(partner, ["/service/?view=open"], args.rounds)
    server = _server_ms(partner, "/service/?view=open")
    print(f"{'partner agent inbox':<28}{p50:>9.1f}{p95:>9.1f}{queries:>9}{server:>9.1f}")
    load = os.getloadavg()[0]
    print(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
