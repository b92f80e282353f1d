"""Loyalty API under load: earn/redeem operations per second and latency through real HTTP.

Creates a scratch PostgreSQL database, migrates it, creates a cashier with an
API token and ``--accounts`` loyalty accounts (each seeded with points), starts
gunicorn on a free loopback port and lets ``--clients`` threads (stdlib
``http.client``, keep-alive) post earn and redeem requests, each with its own
idempotency key, to random accounts for ``--seconds``. Prints ops/s, p50/p95/p99
latency, errors, and checks afterwards that no point was lost or doubled
(balance = sum of entries = sum of lot remainders, one entry per accepted
request). The database is dropped at the end. Goal: >= 500 ops/s, 50 clients.

Usage: python bench/bench_loyalty_api.py [--clients 50] [--seconds 20] [--accounts 200]
       [--workers 4] [--threads 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter

import psycopg

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(accounts: int) -> tuple[str, list[int]]:
    """Create the cashier, the program and the accounts; return the token and account ids."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    import django

    django.setup()
    from decimal import Decimal

    from django.db import connection
    from rest_framework.authtoken.models import Token

    from stammkunde.core.services import user_create
    from stammkunde.customers.services import customer_create
    from stammkunde.loyalty import services
    from stammkunde.loyalty.models import LoyaltyProgram, Tier

    cashier = user_create(username="kasse", password=None, roles=["agent"])
    token = Token.objects.create(user=cashier).key
    program = LoyaltyProgram.objects.create(name="Bench", point_value=Decimal("0.01"))
    for rank, (name, threshold) in enumerate([("Basis", 0), ("Silber", 500), ("Gold", 1500)]):
        Tier.objects.create(program=program, name=name, rank=rank, threshold=threshold)
    ids = []
    for i in range(accounts):
        customer = customer_create(actor=None, first_name=f"Kunde{i}", last_name="Bench")
        account = services.account_enroll(customer=customer, program=program)
        services.points_earn(account=account, points=1_000_000, idempotency_key="seed")
        ids.append(account.pk)
    connection.close()
    return token, ids


def check() -> tuple[int, int]:
    """Return (accounts whose balance, entries and lots disagree, entries in all)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM loyalty_loyaltyaccount a
            WHERE a.balance <> (SELECT coalesce(sum(points), 0) FROM loyalty_pointsentry
                                WHERE account_id = a.id)
               OR a.balance <> (SELECT coalesce(sum(remaining), 0) FROM loyalty_pointslot
                                WHERE account_id = a.id)
            """
        )
        bad = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM loyalty_pointsentry")
        entries = cursor.fetchone()[0]
    connection.close()
    return bad, entries


def client(
    port: int, token: str, ids: list[int], until: float, seed: int, out: list, lock: threading.Lock
) -> None:
    """Post earn and redeem requests until ``until``; record (kind, status, seconds)."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    samples = []
    n = 0
    while time.perf_counter() < until:
        n += 1
        kind = "earn" if n % 2 else "redeem"
        account = rng.choice(ids)
        body = json.dumps({"points": 10 if kind == "earn" else 7, "reason": "bench"})
        headers["Idempotency-Key"] = f"c{seed}-{n}"
        started = time.perf_counter()
        try:
            conn.request("POST", f"/api/loyalty/accounts/{account}/{kind}/", body, headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        samples.append((kind, status, time.perf_counter() - started))
    conn.close()
    with lock:
        out.extend(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    name = f"bench_loyalty_{os.getpid()}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    server = None
    try:
        env = {**os.environ, "DATABASE_URL": url, "DB_CONN_MAX_AGE": "600"}
        env.pop("STAMMKUNDE_DEBUG", None)
        subprocess.run(
            [sys.executable, "-m", "stammkunde.cli", "migrate", "-v0"], env=env, check=True
        )
        os.environ["DATABASE_URL"] = url
        token, ids = setup(args.accounts)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "stammkunde.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(args.workers),
                "-k",
                os.environ.get("BENCH_WORKER_CLASS", "gthread"),
                "--threads",
                str(args.threads),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        deadline = time.time() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/health/")
                probe.getresponse().read()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        # Warm-up: every worker imports, connects and fills its caches.
        warm: list = []
        client(port, token, ids, time.perf_counter() + 2, 10_000, warm, threading.Lock())

        samples: list = []
        lock = threading.Lock()
        until = time.perf_counter() + args.seconds
        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(port, token, ids, until, i, samples, lock))
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    try:
        ok = [s for s in samples if s[1] in (200, 201)]
        statuses = Counter(s[1] for s in samples)
        latencies = sorted(s[2] * 1000 for s in samples)
        bad, entries = check()
        seeded = args.accounts + len([w for w in warm if w[1] in (200, 201)])
        print(
            f"loyalty API on PostgreSQL: {args.clients} clients, {args.seconds:.0f} s, "
            f"gunicorn {args.workers} workers x {args.threads} threads, "
            f"{args.accounts} accounts, {os.cpu_count()} CPUs"
        )
        print(f"  requests      : {len(samples)} ({dict(statuses)})")
        print(f"  ops/s         : {len(ok) / elapsed:8.1f}  (goal >= 500)")
        for kind in ("earn", "redeem"):
            lat = sorted(s[2] * 1000 for s in ok if s[0] == kind)
            if lat:
                print(
                    f"  {kind:6s} p50/p95: {statistics.median(lat):6.1f} / "
                    f"{lat[int(0.95 * (len(lat) - 1))]:6.1f} ms  ({len(lat)} ok)"
                )
        print(
            f"  all p50/p95/p99: {statistics.median(latencies):6.1f} / "
            f"{latencies[int(0.95 * (len(latencies) - 1))]:6.1f} / "
            f"{latencies[int(0.99 * (len(latencies) - 1))]:6.1f} ms"
        )
        print(
            f"  ledger check  : {bad} accounts out of balance; "
            f"{entries} entries = {seeded} seeded/warm-up + {len(ok)} accepted: "
            f"{'OK' if bad == 0 and entries == seeded + len(ok) else 'MISMATCH'}"
        )
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
