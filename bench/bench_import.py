# ruff: noqa: E501  (report lines read better unwrapped)
"""Import of 1M order lines on PostgreSQL: the fast path against a naive ORM loop, one run.

    .venv/bin/python bench/bench_import.py [--lines 1000000] [--naive 5000]
    .venv/bin/python bench/bench_import.py --compare <git revision> [--rounds 2] ...

With ``--compare`` the same bench runs alternately on the code of that
revision (``git archive`` into a scratch folder) and on the working tree, each
in its own process and database, and prints the fast path of both and their
ratio: the figures before and after a change, measured in the same run.

Creates a scratch database on postgresql://postgres@127.0.0.1:5432 (dropped at
the end), loads products and customers through the importer, writes a German
Excel style order file (``;``, decimal commas, dd.mm.yyyy), imports it with
``import_file`` (COPY into staging + INSERT ... ON CONFLICT) and times a
``Model.objects.create`` loop on a sample of other orders of the same file
format. Prints rows/s of both, the ratio and the peak memory (ru_maxrss),
once after a 10 % file and once after the full file: equal peaks mean the
import streams with flat memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "stammkunde_bench_dataio"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def backend_cpu_seconds() -> float:
    """CPU time of this connection's PostgreSQL backend process (same machine, /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_files(
    folder: Path, *, lines: int, customers: int, skus: int, seed: int
) -> dict[str, Path]:
    rng = random.Random(seed)
    paths = {
        k: folder / f"{k}.csv" for k in ("products", "customers", "orders", "orders_small", "naive")
    }
    with paths["products"].open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle, delimiter=";")
        w.writerow(["Artikelnummer", "Bezeichnung", "Warengruppe", "Preis"])
        for i in range(skus):
            w.writerow(
                [
                    f"SKU-{i:05d}",
                    f"Artikel {i}",
                    f"Gruppe {i % 12}",
                    f"{rng.randint(100, 250000) / 100:.2f}".replace(".", ","),
                ]
            )
    with paths["customers"].open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle, delimiter=";")
        w.writerow(["Kunden-ID", "Vorname", "Nachname", "E-Mail", "PLZ", "Ort", "Straße"])
        for i in range(customers):
            w.writerow(
                [
                    f"C{i}",
                    f"Vorname{i}",
                    f"Nachname{i % 5000}",
                    f"kunde{i}@example.de",
                    f"{10000 + i % 89999}",
                    "Köln",
                    f"Weg {i % 300}",
                ]
            )

    def orders(path: Path, n_lines: int, prefix: str) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            w = csv.writer(handle, delimiter=";")
            w.writerow(
                [
                    "Bestellnummer",
                    "Kunden-ID",
                    "Bestelldatum",
                    "Kanal",
                    "Artikelnummer",
                    "Menge",
                    "Einzelpreis",
                ]
            )
            written, order = 0, 0
            while written < n_lines:
                order += 1
                customer = f"C{rng.randrange(customers)}"
                day = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2019, 2025)} {rng.randint(8, 19):02d}:{rng.randint(0, 59):02d}"
                channel = rng.choice(["shop", "pos", "Filiale", "phone"])
                for _ in range(min(rng.choice([1, 1, 2, 3, 4]), n_lines - written)):
                    price = (
                        ""
                        if rng.random() < 0.3
                        else f"{rng.randint(100, 90000) / 100:.2f}".replace(".", ",")
                    )
                    w.writerow(
                        [
                            f"{prefix}{order}",
                            customer,
                            day,
                            channel,
                            f"SKU-{rng.randrange(skus):05d}",
                            rng.randint(1, 3),
                            price,
                        ]
                    )
                    written += 1

    orders(paths["orders"], lines, "O")
    orders(paths["orders_small"], max(1, lines // 10), "S")
    return paths


def naive_import(path: Path, limit: int) -> tuple[int, float]:
    """The loop a first version would write: one query (or three) per row."""
    from decimal import Decimal

    from django.db import transaction

    from stammkunde.commerce.models import Order, OrderLine, Product
    from stammkunde.customers.models import Customer
    from stammkunde.dataio.values import datetime_value, decimal_value

    started = time.perf_counter()
    rows = 0
    with path.open(encoding="utf-8") as handle, transaction.atomic():
        reader = csv.DictReader(handle, delimiter=";")
        for rec in reader:
            if rows >= limit:
                break
            customer = Customer.objects.get(external_id=rec["Kunden-ID"])
            product = Product.objects.get(sku=rec["Artikelnummer"])
            price = (
                decimal_value(rec["Einzelpreis"], decimal_comma=True)
                if rec["Einzelpreis"]
                else product.price
            )
            quantity = int(rec["Menge"])
            order, _ = Order.objects.get_or_create(
                external_id=rec["Bestellnummer"],
                defaults={
                    "number": rec["Bestellnummer"],
                    "customer": customer,
                    "ordered_at": datetime_value(rec["Bestelldatum"]),
                    "total": Decimal("0"),
                },
            )
            line = OrderLine.objects.create(
                order=order,
                product=product,
                quantity=quantity,
                unit_price=price,
                line_total=price * quantity,
            )
            order.total += line.line_total
            order.save(update_fields=["total"])
            rows += 1
    return rows, time.perf_counter() - started


def database_floor(orders: int, lines: int) -> float:
    """Seconds PostgreSQL alone needs to store ``orders`` orders with ``lines`` lines and timeline.

    The same rows the fast path writes, generated inside the database
    (``INSERT ... SELECT FROM generate_series``, foreign-key triggers off as in
    the fast path), in a transaction that is rolled back. No parsing, no
    checks, no client: the ceiling of any import on this machine and server.
    Measured after the import, so into tables that already hold its rows.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from stammkunde.commerce.models import Order

    order_type = ContentType.objects.get_for_model(Order).pk
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM customers_customer")
        low, high = cursor.fetchone()
        cursor.execute("SELECT min(id), max(id) FROM commerce_product")
        p_low, p_high = cursor.fetchone()
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO commerce_order (id, number, external_id, customer_id, ordered_at, "
            "channel, status, currency, total) "
            "SELECT -i, 'F' || i, 'F' || i, %s + (i::bigint * 7919) %% (%s - %s + 1), "
            "timestamptz '2019-01-01' + (i::bigint * 7907 %% 2500000) * interval '1 minute', "
            "'shop', 'paid', 'EUR', 99.90 FROM generate_series(1, %s) i",
            [low, high, low, orders],
        )
        cursor.execute(
            "INSERT INTO commerce_orderline (order_id, product_id, quantity, unit_price, line_total) "
            "SELECT -(1 + i %% %s), %s + i %% (%s - %s + 1), 2, 49.95, 99.90 "
            "FROM generate_series(1, %s) i",
            [orders, p_low, p_high, p_low, lines],
        )
        cursor.execute(
            "INSERT INTO customers_interaction (customer_id, occurred_at, channel, direction, "
            "kind, summary, source_type_id, source_id, actor_id) "
            "SELECT customer_id, ordered_at, 'web', 'in', 'purchase', "
            "'Order ' || number || ': 99.90 EUR', %s, id::text, NULL "
            "FROM commerce_order WHERE id < 0",
            [order_type],
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--skus", type=int, default=2_000)
    parser.add_argument("--naive", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default=DB_NAME, help="scratch database (created and dropped)")
    parser.add_argument("--compare", metavar="REV", help="also run the code of this revision")
    parser.add_argument(
        "--after", metavar="REV", help="with --compare: this revision, not the tree"
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --compare: runs of each")
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
    db_name = args.db

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db_name}")
        admin.execute(f"CREATE DATABASE {db_name}")
    tmp = tempfile.TemporaryDirectory(prefix="bench_import_")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db_name}"
    os.environ["STAMMKUNDE_VAR_DIR"] = tmp.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from stammkunde.dataio.models import ImportJob
        from stammkunde.dataio.services.imports import import_file

        call_command("migrate", verbosity=0, skip_checks=True)
        folder = Path(tmp.name)
        t0 = time.perf_counter()
        paths = write_files(
            folder, lines=args.lines, customers=args.customers, skus=args.skus, seed=args.seed
        )
        size_mb = paths["orders"].stat().st_size / 1e6
        print(
            f"files written in {time.perf_counter() - t0:.1f} s (orders file {size_mb:.0f} MB, {args.lines:,} lines)"
        )

        good = ImportJob.Mode.GOOD_ROWS
        r = import_file(kind="products", path=paths["products"], mode=good)
        r = import_file(kind="customers", path=paths["customers"], mode=good)
        print(
            f"customers: {r.rows_read:,} rows in {r.seconds:.1f} s = {r.rows_per_second:,.0f} rows/s (failed {r.failed})"
        )

        small = import_file(kind="orders", path=paths["orders_small"], mode=good)
        peak_small = peak_mb()
        print(
            f"orders, 10 % file: {small.rows_read:,} lines, {small.rows_per_second:,.0f} rows/s, peak RSS {peak_small:.0f} MB"
        )

        from stammkunde.commerce.models import Order, OrderLine

        try:
            from stammkunde.core.db import set_based_checks_allowed
        except ImportError:  # a revision from before core.db (``--compare`` with older code)
            from stammkunde.dataio.sql import (  # type: ignore[import-not-found,no-redef]
                set_based_checks_allowed,
            )
        from stammkunde.customers.models import Customer, Interaction

        set_based = set_based_checks_allowed([Order, OrderLine, Interaction, Customer])
        load_before = os.getloadavg()[0]
        cpu0, db0 = time.process_time(), backend_cpu_seconds()
        fast = import_file(kind="orders", path=paths["orders"], mode=good)
        cpu, db_cpu = time.process_time() - cpu0, backend_cpu_seconds() - db0
        peak_full = peak_mb()
        if fast.failed:
            print(f"  {fast.failed} rows failed, e.g. {fast.errors[:3]}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM commerce_orderline")
            stored_lines = cursor.fetchone()[0]
        print(
            f"orders, full file: {fast.rows_read:,} lines in {fast.seconds:.1f} s = {fast.rows_per_second:,.0f} rows/s (order lines stored: {stored_lines:,})"
        )
        print(
            f"  CPU time: importer {cpu:.1f} s + PostgreSQL backend {db_cpu:.1f} s = "
            f"{fast.rows_read / (cpu + db_cpu):,.0f} rows per CPU second "
            f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} at the end, "
            f"{os.cpu_count()} CPUs)"
        )
        print(
            "  foreign keys checked "
            + ("once per batch (set-based)" if set_based else "per row (triggers)")
        )

        # The naive loop on a sample of new orders (the small file's numbers are taken, use a fresh one).
        sample = folder / "naive.csv"
        with (
            paths["orders_small"].open(encoding="utf-8") as src,
            sample.open("w", encoding="utf-8") as dst,
        ):
            for i, line in enumerate(src):
                dst.write("N" + line[1:] if i else line)
                if i > args.naive:
                    break
        db0, c0 = backend_cpu_seconds(), time.process_time()
        rows, seconds = naive_import(sample, args.naive)
        naive_cpu = time.process_time() - c0 + backend_cpu_seconds() - db0
        naive_rate = rows / seconds
        print(
            f"naive Model.objects.create loop: {rows:,} lines in {seconds:.1f} s = {naive_rate:,.0f} rows/s "
            f"({rows / naive_cpu:,.0f} rows per CPU second)"
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM commerce_order WHERE external_id LIKE 'O%%'")
            full_orders = cursor.fetchone()[0]
        floor_seconds = database_floor(full_orders, fast.rows_read)
        floor_rate = fast.rows_read / floor_seconds
        print(
            f"PostgreSQL alone (INSERT ... SELECT of {full_orders:,} orders, {fast.rows_read:,} lines "
            f"and their timeline, no client): {floor_seconds:.1f} s = {floor_rate:,.0f} rows/s; "
            f"the fast path reaches {fast.rows_per_second / floor_rate:.0%} of it"
        )
        print()
        print(
            f"RESULT fast path {fast.rows_per_second:,.0f} rows/s | naive {naive_rate:,.0f} rows/s | "
            f"ratio {fast.rows_per_second / naive_rate:,.1f}x | database alone {floor_rate:,.0f} rows/s | peak RSS {peak_small:.0f} MB after "
            f"{small.rows_read:,} lines, {peak_full:.0f} MB after {fast.rows_read:,} lines | "
            f"goal >= 50,000 rows/s: {'met' if fast.rows_per_second >= 50_000 else 'NOT met'}"
        )
        connection.close()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [db_name],
            )
            admin.execute(f"DROP DATABASE IF EXISTS {db_name}")
        tmp.cleanup()
    sys.stdout.flush()


def compare(args: argparse.Namespace) -> None:
    """Run the bench on revision ``args.compare`` and on the working tree, alternately."""
    repo = Path(__file__).resolve().parents[1]
    base = tempfile.TemporaryDirectory(prefix="bench_import_base_")
    sources = {}
    for label, rev in (("before", args.compare), ("after", args.after)):
        if rev is None:
            sources[label] = repo / "src"
            continue
        folder = Path(base.name) / label
        folder.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", rev, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        sources[label] = folder / "src"
    common = [
        f"--lines={args.lines}",
        f"--customers={args.customers}",
        f"--skus={args.skus}",
        f"--naive={args.naive}",
        f"--seed={args.seed}",
    ]
    found: dict[str, list[float]] = {"before": [], "after": []}
    for round_no in range(args.rounds):
        for label, src in sources.items():
            env = {**os.environ, "PYTHONPATH": str(src)}
            run = subprocess.run(
                [sys.executable, __file__, *common, f"--db={args.db}_{label}"],
                env=env,
                capture_output=True,
                text=True,
            )
            print(
                f"--- round {round_no + 1}, {label} ({(args.compare if label == 'before' else args.after) or 'working tree'})"
            )
            print(run.stdout.strip() or run.stderr[-2000:])
            match = re.search(r"RESULT fast path ([\d,]+) rows/s", run.stdout)
            if match:
                found[label].append(float(match.group(1).replace(",", "")))
    base.cleanup()
    print()
    for label, rates in found.items():
        print(f"{label}: " + ", ".join(f"{r:,.0f}" for r in rates) + " rows/s")
    if found["before"] and found["after"]:
        before = sum(found["before"]) / len(found["before"])
        after = sum(found["after"]) / len(found["after"])
        print(
            f"COMPARE fast path before {before:,.0f} rows/s | after {after:,.0f} rows/s | "
            f"after / before {after / before:.2f}"
        )


if __name__ == "__main__":
    main()
