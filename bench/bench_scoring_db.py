"""Full scoring through the database: demo shop on PostgreSQL, then `analytics score`.

For each size a scratch PostgreSQL database is created (``BENCH_PG`` admin URL,
default the local trust-auth server) and dropped afterwards. A subprocess with
``DATABASE_URL`` pointing at it migrates, loads the demo shop and runs the
scoring service, so the peak RSS belongs to one size alone. Prints the load,
fit and score/write times, the total and the peak memory.
Usage: ``python bench/bench_scoring_db.py [--sizes 100000 1000000] [--chunk-size N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import psycopg

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
END = "2026-10-31"


def worker(customers: int, chunk_size: int) -> None:
    """Run inside the scratch database: migrate, generate, score; print JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stammkunde.settings")
    import django

    django.setup()
    from datetime import UTC, date, datetime

    from django.core.management import call_command

    from stammkunde.analytics.services import scoring_run
    from stammkunde.demo.generator import demo_generate

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    demo = demo_generate(
        customers=customers,
        seed=1,
        chunk_size=50_000,
        end=datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC),
    )
    generate_s = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    run = scoring_run(as_of=date.fromisoformat(END), chunk_size=chunk_size)
    total = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds of this process: a figure that survives other jobs on the machine
    # (the database server's own work is not included).
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(
        json.dumps(
            {
                "customers": customers,
                "orders": demo.orders,
                "scored": run.n_customers,
                "generate_s": generate_s,
                "score_s": total,
                "cpu_s": cpu,
                "timings": run.timings,
                "rss_before_mb": rss_before / 1024,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "auc": run.auc,
            }
        )
    )


def measure(customers: int, chunk_size: int) -> dict[str, object]:
    name = f"stammkunde_bench_scoring_{customers}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                "--sizes",
                str(customers),
                "--chunk-size",
                str(chunk_size),
            ],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.sizes[0], args.chunk_size)
        return
    print(
        f"{'customers':>10} {'orders':>10} {'scored':>9} {'load s':>7} {'fit s':>7} "
        f"{'write s':>8} {'total s':>8} {'cpu s':>6} {'peak MB':>8} {'AUC':>6}  (demo generation s)"
    )
    for size in args.sizes:
        r = measure(size, args.chunk_size)
        t = r["timings"]
        print(
            f"{r['customers']:>10,} {r['orders']:>10,} {r['scored']:>9,} {t['load']:>7.1f} "
            f"{t['fit']:>7.1f} {t['score_write']:>8.1f} {r['score_s']:>8.1f} {r['cpu_s']:>6.1f} "
            f"{r['peak_rss_mb']:>8.0f} {r['auc']:>6.3f}  ({r['generate_s']:.0f})",
            flush=True,
        )
    # Other jobs on the machine slow the wall-clock columns; CPU seconds are steadier.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
