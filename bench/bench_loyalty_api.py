"""Loyalty API under load: earn/redeem operations per second and latency through real HTTP.

Creates a scratch PostgreSQL database, migrates it, creates a cashier with an
API token and ``--accounts`` loyalty accounts (each seeded with points), starts
gunicorn on a free loopback port and lets ``--clients`` concurrent HTTP/1.1
keep-alive connections post earn and redeem requests, each with its own
idempotency key, to random accounts for ``--seconds``. The client is a small
asyncio loop over raw sockets in its own process, so that the load generator
takes as little as possible of the two CPUs it shares with the server; every
answer's status line is checked and its body read in full. Prints ops/s,
p50/p95/p99 latency, errors, the CPU seconds spent per operation by the
gunicorn workers, PostgreSQL and the client (from /proc), and checks afterwards
that no point was lost or doubled (balance = sum of entries = sum of lot
remainders, one entry per accepted request). The database is dropped at the
end. Goal: >= 500 ops/s, 50 clients.

Usage: python bench/bench_loyalty_api.py [--clients 50] [--seconds 20] [--accounts 200]
       [--workers 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

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


async def _connection(
    port: int, token: str, ids: list[int], until: float, seed: int
) -> list[tuple[str, int, float]]:
    """One keep-alive connection posting earn and redeem requests until ``until``."""
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    samples = []
    n = 0
    while time.perf_counter() < until:
        n += 1
        kind = "earn" if n % 2 else "redeem"
        body = json.dumps({"points": 10 if kind == "earn" else 7, "reason": "bench"}).encode()
        head = (
            f"POST /api/loyalty/accounts/{rng.choice(ids)}/{kind}/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: c{seed}-{n}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        started = time.perf_counter()
        try:
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            status = int(status_line.split()[1])
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            status = 0
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        samples.append((kind, status, time.perf_counter() - started))
    writer.close()
    return samples


def client_process(
    port: int, token: str, ids: list[int], seconds: float, clients: int, first_seed: int
) -> tuple[list[tuple[str, int, float]], float]:
    """Run ``clients`` connections for ``seconds`` here; return the samples and CPU seconds."""

    async def run() -> list[tuple[str, int, float]]:
        until = time.perf_counter() + seconds
        done = await asyncio.gather(
            *(_connection(port, token, ids, until, first_seed + i) for i in range(clients))
        )
        return [sample for samples in done for sample in samples]

    cpu = time.process_time()
    samples = asyncio.run(run())
    return samples, time.process_time() - cpu


def cpu_seconds(match: Callable[[str], bool]) -> float:
    """CPU seconds (user + system) used so far by the processes whose command line matches."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if match(command):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
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
        # Warm-up: every worker imports, connects and prepares its statements.
        warm, _ = client_process(port, token, ids, 3, 8, 10_000)

        def workers(command: str) -> bool:
            return "gunicorn" in command and f"127.0.0.1:{port}" in command

        def database(command: str) -> bool:
            return command.startswith("postgres: ") and f" {name} " in command

        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as pool:
            before = (cpu_seconds(workers), cpu_seconds(database))
            started = time.perf_counter()
            samples, client_cpu = pool.submit(
                client_process, port, token, ids, args.seconds, args.clients, 0
            ).result()
            elapsed = time.perf_counter() - started
            server_cpu = cpu_seconds(workers) - before[0]
            database_cpu = cpu_seconds(database) - before[1]
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
        per_op = 1000 / max(1, len(samples))
        print(
            f"  CPU per op    : gunicorn {server_cpu * per_op:.2f} ms, PostgreSQL "
            f"{database_cpu * per_op:.2f} ms, client {client_cpu * per_op:.2f} ms; "
            f"{(server_cpu + database_cpu + client_cpu) / elapsed:.2f} of "
            f"{os.cpu_count()} CPUs busy; load average {os.getloadavg()[0]:.1f}"
        )
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
