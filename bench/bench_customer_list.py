"""Customer list and 360 page at scale on PostgreSQL: p50/p95 per request.

Creates a scratch database, loads the demo shop with N customers (default
1,000,000), then times the real views in-process through Django's test
client. The baseline measured in the same run is what a naive list does:
Django's Paginator (COUNT(*) + OFFSET) on a deep page, against our keyset page.

Usage: python bench/bench_customer_list.py [--customers 1000000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import psycopg

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def timed(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    name = f"bench_list_{os.getpid()}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        env = {**os.environ, "DATABASE_URL": url}
        cli = [sys.executable, "-m", "stammkunde.cli"]
        subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
        started = time.perf_counter()
        subprocess.run(
            [
                *cli,
                "demo",
                "--customers",
                str(args.customers),
                "--seed",
                "1",
                "--end",
                "2026-10-31",
            ],
            env=env,
            check=True,
        )
        print(f"demo load: {time.perf_counter() - started:.0f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        os.environ["DATABASE_URL"] = url
        measure(args.repeat)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def measure(repeat: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test import Client

    from stammkunde.core.services import user_create
    from stammkunde.customers.models import Customer, PhoneNumber

    settings.RATE_LIMITS["customer_search"] = {"account": "100000/m"}  # timing, not limiting
    user = user_create(username="bench", password=None, roles=["agent"])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    top = Customer.objects.order_by("-id").values_list("id", flat=True).first()
    deep_after = top - 900_000 if top and top > 900_000 else (top or 0) // 10
    sample = Customer.objects.filter(first_purchase_at__isnull=False).order_by("id")
    some = sample.values_list("id", flat=True)[int(sample.count() * 0.5)]
    number = Customer.objects.get(pk=some).number
    email = Customer.objects.get(pk=some).emails.first().address[:12]  # type: ignore[union-attr]
    phone = PhoneNumber.objects.order_by("id").values_list("number", flat=True).first() or ""
    national = "0" + phone[3:] if phone.startswith("+49") else phone
    cases = {
        "list, first page": "/customers/",
        "list, deep keyset page": f"/customers/?after={deep_after}",
        "search name 'müller'": "/customers/?q=müller",
        "search 'anna schmidt'": "/customers/?q=anna+schmidt",
        "search 'Schmidt Anna'": "/customers/?q=Schmidt+Anna",
        "search first name 'anna'": "/customers/?q=anna",
        "search typo 'schmit'": "/customers/?q=schmit",
        "search city 'berlin'": "/customers/?q=berlin",
        "search postcode '10115'": "/customers/?q=10115",
        "search email prefix": f"/customers/?q={email}",
        "search customer number": f"/customers/?q={number}",
        "search number w/o prefix": f"/customers/?q={int(number[1:])}",
        "search phone, national": f"/customers/?q={national}",
        "picker 'anna schmidt'": "/customers/picker/?q=anna+schmidt",
        "filter prospects": "/customers/?prospect=yes",
        "customer 360 page": f"/customers/{some}/",
        "API list (cursor)": "/api/customers/",
    }
    print(f"{'request':32} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, path in cases.items():
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert client.get(path).status_code == 200, path
        p50, p95 = timed(lambda path=path: client.get(path), repeat)
        print(f"{label:32} {p50:8.1f} {p95:8.1f} {len(queries):8d}")

    qs = Customer.objects.order_by("-id")
    page_no = 18_000 if Customer.objects.count() > 900_000 else 100

    def naive() -> None:
        list(Paginator(qs, 50).page(page_no).object_list)

    def keyset() -> None:
        list(qs.filter(id__lt=deep_after)[:51])

    n50, n95 = timed(naive, max(5, repeat // 3))
    k50, k95 = timed(keyset, repeat)
    print(f"baseline Paginator COUNT+OFFSET page {page_no}: p50 {n50:.1f} ms, p95 {n95:.1f} ms")
    print(f"keyset page:                              p50 {k50:.1f} ms, p95 {k95:.1f} ms")
    print(f"ratio naive/keyset (p50): {n50 / k50:.0f}x")


if __name__ == "__main__":
    main()
