"""Demo shop generator speed: customers per second at 10k and (optionally) 1M.

Runs against a scratch PostgreSQL database that it creates and drops
(``BENCH_PG`` admin URL, default the local trust-auth server), or SQLite with
``--sqlite``. Usage: ``python bench/bench_demo.py [--sizes 10000 1000000] [--sqlite]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import psycopg

ADMIN_URL = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def run(size: int, database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    stammkunde = [sys.executable, "-m", "stammkunde.cli"]
    subprocess.run([*stammkunde, "migrate", "-v0"], env=env, check=True)
    started = time.perf_counter()
    out = subprocess.run(
        [*stammkunde, "demo", "--customers", str(size), "--seed", "1", "--end", "2026-10-31"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"{size:>9,} customers: {seconds:7.1f} s wall (incl. start-up), "
        f"{size / seconds:8,.0f} customers/s, peak RSS {peak:,.0f} MB"
    )
    print("   ", out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    for size in args.sizes:
        if args.sqlite:
            with tempfile.TemporaryDirectory() as tmp:
                run(size, f"sqlite:///{tmp}/bench.sqlite3")
            continue
        name = f"bench_demo_{os.getpid()}"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            run(size, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        finally:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
